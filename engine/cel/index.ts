// The CEL engine arbiter uses by default; swap it here (or pass another to loadBundle) to change libraries.
import type { CelEngine } from './engine.ts';
import { createMarcbachmannEngine } from './marcbachmann.ts';

export * from './engine.ts';
export { createMarcbachmannEngine } from './marcbachmann.ts';
// the alternate engine (@bufbuild/cel, with protobuf) is imported from './bufbuild.ts' directly: re-exporting it
// here would load it for every bundle

let defaultEngine: CelEngine | undefined;
export function defaultCelEngine(): CelEngine {
  defaultEngine ??= createMarcbachmannEngine();
  return defaultEngine;
}
