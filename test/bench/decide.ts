// decide.cel: decisions per second of the shipped bundle over the example diagnosis mix, one thread, after warm-up.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBundle } from '../../engine/bundle.ts';
import { buildContext, catalogAndCalendar, resolveCatalogService } from '../../engine/context.ts';
import type { DecideArgs } from '../../engine/decide.ts';
import { parseDiagnosis } from '../../engine/ingest.ts';
import { measureDecisions } from './measure.ts';

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
  // decisionsPerSec is wall-clock; decisionsPerCpuSec discounts time this process was not scheduled (shared machine)
  return { decide: { cel: measureDecisions(await decisionMix(), 20_000, 60_000) } };
}
