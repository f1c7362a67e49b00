// decide.rego (and decide.wasm when the bundle ships a policy.wasm): decisions per second of the Rego edition of the
// shipped bundle over the same example diagnosis mix as decide.cel, one thread, after warm-up.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBundle, type Bundle } from '../../engine/bundle.ts';
import type { DecideArgs } from '../../engine/decide.ts';
import { createInterpreterBackend } from '../../engine/rego/backend.ts';
import { decisionMix, diagnosisTexts, pipeline } from './decide.ts';
import { measureDecisions } from './measure.ts';

const REGO_BUNDLE = fileURLToPath(new URL('../../policies/remediation-rego', import.meta.url));

/** The CEL mix with the bundle swapped: same diagnoses, same contexts, same catalog entries. */
function withBundle(mix: DecideArgs[], bundle: Bundle): DecideArgs[] {
  return mix.map((m) => ({ ...m, bundle }));
}

export async function bench(): Promise<Record<string, unknown>> {
  const mix = await decisionMix();
  const loaded = await loadBundle(REGO_BUNDLE);
  // the interpreter even when the bundle ships a policy.wasm (loadBundle would pick opa-wasm then)
  const rego: Bundle = { ...loaded, backends: [createInterpreterBackend(loaded)] };
  const out: Record<string, unknown> = { rego: { ...measureDecisions(withBundle(mix, rego), 5_000, 20_000), ...(await pipeline(rego, diagnosisTexts(mix), 3_000, 15_000)) } };
  // a compiled bundle (`arbiter build --bundle policies/remediation-rego`) adds the wasm numbers
  if (existsSync(`${REGO_BUNDLE}/policy.wasm`)) out.wasm = measureDecisions(withBundle(mix, loaded), 2_000, 10_000);
  return { decide: out };
}
