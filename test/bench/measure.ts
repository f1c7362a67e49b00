// The measurement loop behind decide.cel, decide.rego and decide.wasm: the same warm-up, timing and percentiles for each.
import { decide, type DecideArgs } from '../../engine/decide.ts';

export interface Throughput {
  /** Wall-clock. */
  decisionsPerSec: number;
  /** Discounts time this process was not scheduled (the machine is shared). */
  decisionsPerCpuSec: number;
  p50Us: number;
  p99Us: number;
  diagnoses: number;
}

/** Decides the mix round-robin `warmup` times (JIT and caches), then `rounds` times measured one decision at a time. */
export function measureDecisions(mix: DecideArgs[], warmup: number, rounds: number): Throughput {
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

export interface PipelineThroughput {
  /** JSON text in → validated Diagnosis → Context → decide → canonical Decision JSON out, wall-clock. */
  pipelinePerSec: number;
  pipelinePerCpuSec: number;
  pipelineP50Us: number;
  pipelineP99Us: number;
}

/**
 * The whole `decide` pipeline a caller pays for, per diagnosis: `texts` are distinct JSON documents (distinct ids),
 * each parsed afresh, so no object is reused between decisions.
 */
export function measurePipeline(texts: string[], decideText: (text: string) => string, warmup: number, rounds: number): PipelineThroughput {
  let bytes = 0;
  for (let i = 0; i < warmup; i++) bytes += decideText(texts[i % texts.length]!).length;
  const samples = new Float64Array(rounds);
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    bytes += decideText(texts[i % texts.length]!).length;
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const totalSec = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  if (bytes === 0) throw new Error('bench: the pipeline produced no output');
  samples.sort();
  const pct = (p: number): number => Math.round(samples[Math.min(rounds - 1, Math.floor(p * rounds))]! * 10) / 10;
  return { pipelinePerSec: Math.round(rounds / totalSec), pipelinePerCpuSec: Math.round(rounds / ((cpu.user + cpu.system) / 1e6)), pipelineP50Us: pct(0.5), pipelineP99Us: pct(0.99) };
}
