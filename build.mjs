// `npm run build` (also run by `npm ci` through `prepare`): bundles the CLI into plain ESM under dist/js/ that
// bin/arbiter runs without a transpiler. One chunk per lazily imported command/engine, so a command loads only what
// it uses; npm packages stay external (node_modules). Type checking is `npm run typecheck`'s job, not the build's.
// dist/js/ is two levels below the root on purpose: `new URL('../../policies/…', import.meta.url)` in a bundled
// module then resolves to the same file as in its source (bin/cli/*.ts), so data is read live, never copied.
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

const OUT = 'dist/js';
const startedAtMs = Date.now();
rmSync(OUT, { recursive: true, force: true });
const result = await build({
  entryPoints: { main: 'bin/cli/main.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // npm packages are bundled too: zod alone is ~95 ESM files, yaml ~30 CJS files; one chunk loads far faster.
  // CommonJS inside them calls require() for node built-ins, which ESM output provides through createRequire.
  banner: { js: "import { createRequire as __arbiterCreateRequire } from 'node:module'; const require = __arbiterCreateRequire(import.meta.url);" },
  outdir: OUT,
  chunkNames: '[name]-[hash]',
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
// bin/arbiter compares these sources' mtimes with the build time and falls back to tsx when any is newer
const sources = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/') && !f.startsWith('(disabled)')).sort();
mkdirSync(OUT, { recursive: true });
writeFileSync(`${OUT}/sources.json`, `${JSON.stringify({ builtAtMs: startedAtMs, sources })}\n`);
