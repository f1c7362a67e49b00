// The shipped bundle in two languages: policies/remediation (CEL) and policies/remediation-rego (Rego) must make the
// same decisions on the same inputs — everything but the bundle's revision/digest, the ids derived from them, and
// the rule source locations.
import { lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, type Bundle } from '../../engine/bundle.ts';
import { canonicalJson } from '../../engine/canonical.ts';
import { buildContext, catalogAndCalendar, resolveCatalogService } from '../../engine/context.ts';
import { decide } from '../../engine/decide.ts';
import { parseDiagnosis } from '../../engine/ingest.ts';
import { ActionKinds, type Context, type Decision, type Diagnosis } from '../../engine/types.ts';

const CEL_DIR = fileURLToPath(new URL('../../policies/remediation', import.meta.url));
const REGO_DIR = fileURLToPath(new URL('../../policies/remediation-rego', import.meta.url));

let cel: Bundle;
let rego: Bundle;
beforeAll(async () => {
  cel = await loadBundle(CEL_DIR);
  rego = await loadBundle(REGO_DIR);
});

// CEL computes in IEEE doubles (cel-spec), Rego in OPA's 64-bit math/big floats: a printed score may differ in its
// last digits (`3.8220000000000005` vs `3.822`), so reason texts compare numbers to 12 significant digits.
const sameDigits = (text: string): string => text.replace(/\d+\.\d+(?:e[+-]?\d+)?/g, (n) => String(Number(Number(n).toPrecision(12))));

/** The decision without what depends on the bundle's identity or the language's source positions. */
function comparable(d: Decision): unknown {
  return JSON.parse(canonicalJson(d), (key, value) =>
    key === 'source' || key === 'bundle' || key === 'id' || key === 'idempotencyKey' ? undefined : key === 'reason' && typeof value === 'string' ? sameDigits(value) : value,
  );
}

function decideBoth(diagnosis: Diagnosis, context: Context): { cel: Decision; rego: Decision } {
  const { catalog } = catalogAndCalendar({ bundleData: cel.data });
  const service = resolveCatalogService(catalog, diagnosis.target.service).entry;
  return { cel: decide({ diagnosis, context, bundle: cel, service }), rego: decide({ diagnosis, context, bundle: rego, service }) };
}

describe('the two editions are one bundle in two languages', () => {
  it('the Rego edition is evaluated by the Rego backend only, the CEL edition by CEL only', () => {
    expect(cel.backends.map((b) => b.name)).toEqual(['cel']);
    expect(rego.backends.map((b) => b.name)).toEqual(['rego']);
  });

  it('they define the same policies', () => {
    expect([...rego.backends[0]!.policies].sort()).toEqual([...cel.backends[0]!.policies].sort());
  });

  it('settings and the cost model are byte-identical copies (loadBundle skips symlinked files, so they are copies)', () => {
    for (const file of ['arbiter.yaml', 'data.json']) {
      expect(lstatSync(`${REGO_DIR}/${file}`).isFile()).toBe(true);
      expect(readFileSync(`${REGO_DIR}/${file}`)).toEqual(readFileSync(`${CEL_DIR}/${file}`));
    }
    expect(rego.settings).toEqual(cel.settings);
    expect(rego.cost).toEqual(cel.cost);
  });

  it('the example diagnoses are shared (a symlink to the CEL edition\'s examples)', () => {
    expect(lstatSync(`${REGO_DIR}/examples`).isSymbolicLink()).toBe(true);
    expect(readlinkSync(`${REGO_DIR}/examples`)).toBe('../remediation/examples');
    expect(realpathSync(`${REGO_DIR}/examples`)).toBe(realpathSync(`${CEL_DIR}/examples`));
  });

  it('the revision says which edition decided', () => {
    expect(rego.revision).toMatch(/rego/);
    expect(cel.revision).not.toMatch(/rego/);
  });
});

describe('same decisions on every example diagnosis', () => {
  const dir = `${CEL_DIR}/examples`;
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  it('there are examples to compare', () => expect(files.length).toBeGreaterThanOrEqual(10));
  for (const file of files) {
    it(file, () => {
      const diagnosis = parseDiagnosis(readFileSync(`${dir}/${file}`, 'utf8'), file);
      const sources = catalogAndCalendar({ bundleData: cel.data });
      const context = buildContext({ diagnosis, now: diagnosis.observedAt, bundleData: cel.data, ...sources });
      const both = decideBoth(diagnosis, context);
      expect(comparable(both.rego)).toEqual(comparable(both.cel));
      // and every Rego verdict says which rule produced it
      for (const c of both.rego.candidates) for (const v of c.verdicts) expect(v.source).toMatchObject({ file: expect.stringMatching(/\.rego$/), row: expect.any(Number) });
    });
  }
});

// ── property: random diagnoses over the shipped policies' vocabulary ─────────────────────────────

const CAUSES = ['bad-deployment', 'memory-leak', 'pool-exhaustion', 'canary-regression', 'load-surge', 'vulnerability', 'network-partition', 'config-drift', 'unknown'];
const SERVICES = ['checkout', 'cart', 'search', 'payments', 'api-gateway', 'unlisted'];
/** Thresholds the policies test, so that boundaries are hit often. */
const CONFIDENCES = [0, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.85, 0.88, 0.9, 1];

const confidence = fc.oneof(fc.constantFrom(...CONFIDENCES), fc.double({ min: 0, max: 1, noNaN: true }).map((x) => Math.round(x * 1000) / 1000));
const measure = (max: number, decimals: number) => fc.double({ min: 0, max, noNaN: true }).map((x) => Math.round(x * 10 ** decimals) / 10 ** decimals);

const signals = fc.record(
  {
    errorRate: fc.oneof(fc.constantFrom(0.05, 0.03, 0.12), measure(1, 3)),
    baselineErrorRate: fc.oneof(fc.constantFrom(0.01, 0.005), measure(0.2, 3)),
    canaryLatencyP99Ms: fc.oneof(fc.constantFrom(384, 480), measure(2000, 0)),
    stableLatencyP99Ms: fc.oneof(fc.constantFrom(320), measure(2000, 0)),
    ksPValue: fc.oneof(fc.constantFrom(0.01, 0.002), measure(0.2, 3)),
    cvss: fc.oneof(fc.constantFrom(9.8, 5, 3.1, 10), measure(10, 1)),
    cisaKev: fc.constantFrom(0, 1),
    internetFacing: fc.constantFrom(0, 1),
    patchAgeDays: fc.oneof(fc.constantFrom(7, 3, 21), measure(60, 0)),
    poolSize: fc.oneof(fc.constantFrom(50, 75, 80), measure(300, 0)),
    dbMaxConnections: fc.oneof(fc.constantFrom(100), measure(400, 0)),
    forecastLoadRatio: fc.oneof(fc.constantFrom(1.3, 1.4, 1.0, 2.5), measure(4, 2)),
  },
  { requiredKeys: [] },
);

const suggested = fc.record(
  {
    kind: fc.constantFrom(...ActionKinds),
    params: fc.oneof(
      fc.constant(undefined),
      fc.constant({ canaryWeight: 0 }),
      fc.record({ configMap: fc.constant('cart-db'), key: fc.constant('poolSize'), value: fc.oneof(fc.integer({ min: 10, max: 200 }), fc.constant('95')) }),
      fc.constant({ image: 'registry.example/api-gateway:1.8.3' }),
    ),
  },
  { requiredKeys: ['kind'] },
).map((s) => (s.params === undefined ? { kind: s.kind } : s));

const hypothesis = fc.record(
  { cause: fc.constantFrom(...CAUSES), confidence, suggestedActions: fc.array(suggested, { maxLength: 2 }) },
  { requiredKeys: ['cause', 'confidence'] },
);

const diagnosisArb = fc.record({
  service: fc.constantFrom(...SERVICES),
  environment: fc.constantFrom(undefined, 'production', 'staging'),
  signals: fc.option(signals, { nil: undefined }),
  hypotheses: fc.array(hypothesis, { minLength: 1, maxLength: 4 }),
});

const contextArb = fc.record({
  criticality: fc.constantFrom('critical', 'high', 'medium', 'low') as fc.Arbitrary<Context['service']['criticality']>,
  businessHours: fc.boolean(),
  maintenanceWindow: fc.boolean(),
  changeFreeze: fc.boolean(),
  peakEvent: fc.constantFrom(null, 'black-friday'),
  incidentActions: fc.integer({ min: 0, max: 9 }),
  serviceActionsLastHour: fc.integer({ min: 0, max: 4 }),
  circuitOpen: fc.boolean(),
  killSwitch: fc.boolean(),
});

describe('same decisions on random diagnoses and contexts (property)', () => {
  it('mode, action, candidates, effects, verdicts, support, costs and rationale agree', () => {
    fc.assert(
      fc.property(diagnosisArb, contextArb, (d, c) => {
        const diagnosis: Diagnosis = {
          apiVersion: 'arbiter.dev/v1',
          kind: 'Diagnosis',
          id: 'diag-prop',
          incident: 'INC-PROP',
          observedAt: '2026-11-21T02:13:00Z',
          target: { service: d.service, namespace: 'shop', ...(d.environment ? { environment: d.environment } : {}) },
          ...(d.signals ? { signals: d.signals as Record<string, number> } : {}),
          hypotheses: d.hypotheses as Diagnosis['hypotheses'],
        };
        const context: Context = {
          now: '2026-11-21T02:13:00Z',
          service: { name: d.service, namespace: 'shop', criticality: c.criticality, owners: [] },
          calendar: { businessHours: c.businessHours, maintenanceWindow: c.maintenanceWindow, changeFreeze: c.changeFreeze, peakEvent: c.peakEvent },
          history: { incidentActions: c.incidentActions, serviceActionsLastHour: c.serviceActionsLastHour, circuitOpen: c.circuitOpen },
          killSwitch: c.killSwitch,
        };
        const both = decideBoth(diagnosis, context);
        expect(comparable(both.rego)).toEqual(comparable(both.cel));
      }),
      { numRuns: 400 },
    );
  });
});
