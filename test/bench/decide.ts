// decide.cel: decisions per second of the shipped bundle over the example diagnosis mix, one thread, after warm-up.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBundle } from '../../engine/bundle.ts';
import { buildContext, catalogAndCalendar, resolveCatalogService } from '../../engine/context.ts';
import type { DecideArgs } from '../../engine/decide.ts';
import { canonicalJson } from '../../engine/canonical.ts';
import { decide } from '../../engine/decide.ts';
import { parseDiagnosis } from '../../engine/ingest.ts';
import type { Bundle } from '../../engine/bundle.ts';
import { measureDecisions, measurePipeline, type PipelineThroughput } from './measure.ts';

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

/** The example diagnoses as JSON texts, DISTINCT copies each with its own id and incident. */
export function diagnosisTexts(mix: DecideArgs[], distinct = 1000): string[] {
  return Array.from({ length: distinct }, (_, i) => {
    const d = mix[i % mix.length]!.diagnosis;
    return JSON.stringify({ ...d, id: `${d.id}-${i}`, incident: `${d.incident}-${i}` });
  });
}

/** JSON text in → Decision canonical JSON out with `bundle`, as `arbiter decide --json` does per diagnosis. */
export async function pipeline(bundle: Bundle, texts: string[], warmup: number, rounds: number): Promise<PipelineThroughput> {
  const sources = catalogAndCalendar({ bundleData: bundle.data });
  return measurePipeline(texts, (text) => {
    const diagnosis = parseDiagnosis(text, 'diagnosis');
    const context = buildContext({ diagnosis, now: diagnosis.observedAt, bundleData: bundle.data, ...sources });
    const service = resolveCatalogService(sources.catalog, diagnosis.target.service).entry;
    return canonicalJson(decide({ diagnosis, context, bundle, service }));
  }, warmup, rounds);
}

export async function bench(): Promise<Record<string, unknown>> {
  // decisionsPerSec is wall-clock; decisionsPerCpuSec discounts time this process was not scheduled (shared machine)
  const mix = await decisionMix();
  const core = measureDecisions(mix, 20_000, 60_000);
  return { decide: { cel: { ...core, ...(await pipeline(mix[0]!.bundle as Bundle, diagnosisTexts(mix), 10_000, 40_000)) } } };
}
