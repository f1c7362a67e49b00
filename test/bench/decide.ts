// decide.cel: decisions per second of the shipped bundle over the example diagnosis mix, one thread, after warm-up.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBundle } from '../../engine/bundle.ts';
import { buildContext, catalogAndCalendar, resolveCatalogService } from '../../engine/context.ts';
import { decide, type DecideArgs } from '../../engine/decide.ts';
import { parseDiagnosis } from '../../engine/ingest.ts';

const BUNDLE = fileURLToPath(new URL('../../policies/remediation', import.meta.url));

export async function decisionMix(): Promise<DecideArgs[]> {
  const bundle = await loadBundle(BUNDLE);
  const dir = `${BUNDLE}/examples`;
  const sources = catalogAndCalendar({ bundleData: bundle.data });
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const diagnosis = parseDiagnosis(readFileSync(`${dir}/${f}`, 'utf8'), f);
      const context = buildContext({ diagnosis, now: diagnosis.observedAt, bundleData: bundle.data, ...sources });
      return { diagnosis, context, bundle, service: resolveCatalogService(sources.catalog, diagnosis.target.service).entry };
    });
}

export async function bench(): Promise<Record<string, unknown>> {
  const mix = await decisionMix();
  for (let i = 0; i < 20_000; i++) decide(mix[i % mix.length]!); // warm-up: JIT and caches
  const rounds = 60_000;
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
  return {
    decide: {
      // decisionsPerSec is wall-clock; decisionsPerCpuSec discounts time this process was not scheduled (shared machine)
      cel: { decisionsPerSec: Math.round(rounds / totalSec), decisionsPerCpuSec: Math.round(rounds / cpuSec), p50Us: pct(0.5), p99Us: pct(0.99), diagnoses: mix.length },
    },
  };
}
