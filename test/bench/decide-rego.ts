// decide.rego (and decide.wasm when the bundle ships a policy.wasm): decisions per second of the Rego edition of the
// shipped bundle over the same example diagnosis mix as decide.cel, one thread, after warm-up.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBundle, type Bundle } from '../../engine/bundle.ts';
import { decide, type DecideArgs } from '../../engine/decide.ts';
import { createInterpreterBackend } from '../../engine/rego/backend.ts';
import { decisionMix } from './decide.ts';

const REGO_BUNDLE = fileURLToPath(new URL('../../policies/remediation-rego', import.meta.url));

interface Throughput {
  decisionsPerSec: number;
  /** Discounts time this process was not scheduled (the machine is shared), as decide.cel does. */
  decisionsPerCpuSec: number;
  p50Us: number;
  p99Us: number;
  diagnoses: number;
}

function measure(mix: DecideArgs[], warmup: number, rounds: number): Throughput {
  for (let i = 0; i < warmup; i++) decide(mix[i % mix.length]!);
  const samples = new Float64Array(rounds);
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    decide(mix[i % mix.length]!);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const totalSec = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  samples.sort();
  const pct = (p: number): number => Math.round(samples[Math.min(rounds - 1, Math.floor(p * rounds))]! * 10) / 10;
  return { decisionsPerSec: Math.round(rounds / totalSec), decisionsPerCpuSec: Math.round(rounds / cpuSec), p50Us: pct(0.5), p99Us: pct(0.99), diagnoses: mix.length };
}

/** The CEL mix with the bundle swapped: same diagnoses, same contexts, same catalog entries. */
function withBundle(mix: DecideArgs[], bundle: Bundle): DecideArgs[] {
  return mix.map((m) => ({ ...m, bundle }));
}

export async function bench(): Promise<Record<string, unknown>> {
  const mix = await decisionMix();
  const loaded = await loadBundle(REGO_BUNDLE);
  // the interpreter even when the bundle ships a policy.wasm (loadBundle would pick opa-wasm then)
  const rego: Bundle = { ...loaded, backends: [createInterpreterBackend(loaded)] };
  const out: Record<string, unknown> = { rego: measure(withBundle(mix, rego), 5_000, 20_000) };
  // a compiled bundle (`arbiter build --bundle policies/remediation-rego`) adds the wasm numbers
  if (existsSync(`${REGO_BUNDLE}/policy.wasm`)) out.wasm = measure(withBundle(mix, loaded), 2_000, 10_000);
  return { decide: out };
}
