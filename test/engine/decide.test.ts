import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, type Bundle } from '../../engine/bundle.ts';
import { canonicalJson, idempotencyKey } from '../../engine/canonical.ts';
import { buildContext, catalogAndCalendar, resolveCatalogService } from '../../engine/context.ts';
import { decide } from '../../engine/decide.ts';
import { parseDiagnosis } from '../../engine/ingest.ts';
import { Effects, modeRank, type ActingMode, type Diagnosis, type Effect } from '../../engine/types.ts';
import { bundleWith, context, diagnosis, scriptedBackend, verdict } from './fixtures.ts';

const BUNDLE = new URL('../../policies/remediation', import.meta.url).pathname;
let bundle: Bundle;
beforeAll(async () => {
  bundle = await loadBundle(BUNDLE);
});

function decideExample(name: string, over: Parameters<typeof buildContext>[0]['override'] = {}) {
  const diagnosis = parseDiagnosis(readFileSync(`${BUNDLE}/examples/${name}.yaml`, 'utf8'), name);
  const sources = catalogAndCalendar({ bundleData: bundle.data });
  const ctx = buildContext({ diagnosis, now: diagnosis.observedAt, bundleData: bundle.data, ...sources, override: over });
  return decide({ diagnosis, context: ctx, bundle, service: resolveCatalogService(sources.catalog, diagnosis.target.service).entry });
}

describe('the shipped bundle decides the example incidents', () => {
  it.each([
    ['memory-leak-off-hours', 'auto', 'restart'],
    ['memory-leak-business-hours', 'escalate', null],
    ['bad-deployment', 'auto', 'rollback'],
    ['canary-regression', 'notify', 'shift-traffic'],
    ['pool-exhaustion', 'auto', 'set-config'],
    ['peak-scale-up', 'notify', 'scale'],
    ['cve-critical', 'auto', 'patch-image'],
    ['network-partition', 'escalate', null],
    ['critical-service', 'approval', 'restart'],
    ['change-freeze', 'approval', 'rollback'],
  ])('%s → %s %s', (name, mode, kind) => {
    const d = decideExample(name);
    expect(d.mode).toBe(mode);
    expect(d.action?.kind ?? null).toBe(kind);
  });

  it('explains the business-hours conflict in a sentence naming both policies and priorities', () => {
    const d = decideExample('memory-leak-business-hours');
    expect(d.rationale).toContain('no_restart_in_business_hours (priority 50, deny) overrides restart_on_memory_leak (priority 10, allow) on restart.');
    expect(d.resolution.overruled.map((v) => v.policy)).toEqual(['restart_on_memory_leak']);
    expect(d.resolution.winner).toBe('escalate');
  });

  it('states why the winner won, with pSuccess and costs', () => {
    const d = decideExample('memory-leak-off-hours');
    expect(d.rationale).toContain('memory-leak (0.90) is addressed by restart; pSuccess 0.77; expected cost 3,334 vs escalation 14,100.');
    expect(d.rationale).toContain('Support 0.90 ≥ auto gate 0.85 with effect allow: mode auto.');
  });

  it('fills every §4.7 field', () => {
    const d = decideExample('bad-deployment');
    expect(d).toMatchObject({ kind: 'Decision', incident: 'INC-4713', diagnosis: 'diag-baddeploy-0213', decidedAt: '2026-11-21T02:13:00Z', bundle: { revision: 'remediation-2026.11.1' } });
    expect(d.id).toMatch(/^dec-[0-9a-f]{16}$/);
    expect(d.idempotencyKey).toBe(idempotencyKey({ incident: 'INC-4713', action: d.action }));
    expect(d.idempotencyKey).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(d.bundle.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const c of d.candidates) expect(c).toHaveProperty('verdicts');
    expect(d.guardrails).toHaveLength(6);
  });

  it('the kill switch turns an auto rollback into approval', () => {
    expect(decideExample('bad-deployment', { killSwitch: true }).mode).toBe('approval');
  });
});

describe('§4.5 shadow mode', () => {
  it('records mode shadow and the mode it would have taken', () => {
    const b = bundleWith([scriptedBackend([{ kind: 'restart', params: {} }], { restart: [verdict('p', 'allow')] })], { mode: 'shadow' });
    const d = decide({ diagnosis: diagnosis(), context: context(), bundle: b });
    expect(d.mode).toBe('shadow');
    expect(d.wouldBe).toBe('auto');
    expect(d.action?.kind).toBe('restart');
  });
});

describe('§4.7 determinism', () => {
  it('identical input gives byte-identical canonical JSON, whatever the key order of the input', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ cause: fc.constantFrom('memory-leak', 'bad-deployment', 'network-partition', 'pool-exhaustion'), confidence: fc.double({ min: 0, max: 1, noNaN: true }) }), { minLength: 1, maxLength: 4 }), fc.boolean(), (hs, businessHours) => {
        const d1 = diagnosis({ hypotheses: hs, signals: { errorRate: 0.2, poolSize: 10, dbMaxConnections: 100 } });
        const reordered = JSON.parse(JSON.stringify({ ...d1, hypotheses: d1.hypotheses, apiVersion: d1.apiVersion })) as Diagnosis;
        const a = canonicalJson(decide({ diagnosis: d1, context: context({ calendar: { businessHours } }), bundle }));
        const b = canonicalJson(decide({ diagnosis: reordered, context: context({ calendar: { businessHours } }), bundle }));
        expect(a).toBe(b);
      }),
      { numRuns: 50 },
    );
  });
});

describe('properties of the pipeline', () => {
  const arbEffects = fc.array(fc.record({ effect: fc.constantFrom<Effect>(...Effects), priority: fc.integer({ min: 0, max: 3 }) }), { maxLength: 4 });
  const arbContext = fc.record({ killSwitch: fc.boolean(), circuitOpen: fc.boolean(), incidentActions: fc.nat(10), serviceActionsLastHour: fc.nat(4) });
  const run = (confidence: number, other: number, effects: Array<{ effect: Effect; priority: number }>, c: { killSwitch: boolean; circuitOpen: boolean; incidentActions: number; serviceActionsLastHour: number }) =>
    decide({
      diagnosis: diagnosis({ hypotheses: [{ cause: 'memory-leak', confidence }, { cause: 'unknown', confidence: other }] }),
      context: context({ killSwitch: c.killSwitch, history: { circuitOpen: c.circuitOpen, incidentActions: c.incidentActions, serviceActionsLastHour: c.serviceActionsLastHour } }),
      bundle: bundleWith([scriptedBackend([{ kind: 'restart', params: {} }], { restart: effects.map((e, i) => verdict(`p${i}`, e.effect, { priority: e.priority })) })]),
    });
  const rank = (m: string, wouldBe?: string): number => modeRank((m === 'shadow' ? wouldBe : m) as ActingMode);

  it('raising confidence never lowers the mode (one candidate, fixed policies)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), arbEffects, arbContext, (a, b, other, effects, c) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(rank(run(hi, other, effects, c).mode)).toBeLessThanOrEqual(rank(run(lo, other, effects, c).mode));
      }),
    );
  });

  it('adding a deny never raises the mode', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), arbEffects, fc.integer({ min: 0, max: 3 }), arbContext, (conf, effects, priority, c) => {
        const before = run(conf, 0, effects, c);
        const after = run(conf, 0, [...effects, { effect: 'deny', priority }], c);
        expect(rank(after.mode)).toBeGreaterThanOrEqual(rank(before.mode));
      }),
    );
  });

  it('guardrails never raise the mode: the decision is never above the gate result', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), arbEffects, arbContext, (conf, effects, c) => {
        const guarded = run(conf, 0, effects, c);
        const free = run(conf, 0, effects, { killSwitch: false, circuitOpen: false, incidentActions: 0, serviceActionsLastHour: 0 });
        expect(rank(guarded.mode)).toBeGreaterThanOrEqual(rank(free.mode));
      }),
    );
  });
});
