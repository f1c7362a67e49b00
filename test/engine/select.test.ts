import { describe, expect, it } from 'vitest';
import { decide, escalationCost, expectedCost, pSuccess, support } from '../../engine/decide.ts';
import { bundleWith, context, COST, diagnosis, scriptedBackend, verdict } from './fixtures.ts';

describe('§4.4 select: formulas', () => {
  const d = diagnosis({
    hypotheses: [
      { cause: 'memory-leak', confidence: 0.6 },
      { cause: 'bad-deployment', confidence: 0.3, suggestedActions: [{ kind: 'restart' }] },
      { cause: 'unknown', confidence: 0.5 },
    ],
  });
  it('pSuccess = min(1, Σ confidence × effectiveness); missing entries are 0', () => {
    expect(pSuccess(d, 'restart', COST)).toBeCloseTo(0.6 * 0.85, 12);
    expect(pSuccess(d, 'rollback', COST)).toBeCloseTo(0.3 * 0.95, 12);
    expect(pSuccess(d, 'scale', COST)).toBe(0);
    const sure = diagnosis({ hypotheses: [{ cause: 'bad-deployment', confidence: 1 }, { cause: 'bad-deployment', confidence: 1 }] });
    expect(pSuccess(sure, 'rollback', COST)).toBe(1);
  });
  it('support sums hypotheses that address the action by effectiveness or by suggestion', () => {
    expect(support(d, 'restart', COST)).toBeCloseTo(0.9, 12);
    expect(support(d, 'rollback', COST)).toBeCloseTo(0.3, 12);
    expect(support(d, 'scale', COST)).toBe(0);
  });
  it('C = incidentCostPerMinute[criticality] × minutesUnresolved', () => {
    expect(escalationCost(context(), COST)).toBe(300 * 47);
    expect(escalationCost(context({ service: { criticality: 'critical' } }), COST)).toBe(1000 * 47);
  });
  it('expectedCost = actionCost + Σ verdict costs (any priority or effect) + (1 − pSuccess) × C', () => {
    const vs = [verdict('a', 'allow', { cost: 100 }), verdict('b', 'deny', { cost: 25, priority: -5 })];
    expect(expectedCost('restart', vs, 0.5, 14100, COST)).toBe(20 + 125 + 0.5 * 14100);
  });
});

describe('§4.4 select: cost', () => {
  it('chooses the cheapest eligible candidate', () => {
    const b = bundleWith([
      scriptedBackend([{ kind: 'restart', params: {} }, { kind: 'rollback', params: {} }], { restart: [verdict('p', 'allow')], rollback: [verdict('p', 'allow')] }),
    ]);
    const d = decide({ diagnosis: diagnosis({ hypotheses: [{ cause: 'memory-leak', confidence: 0.5 }, { cause: 'bad-deployment', confidence: 0.5 }] }), context: context(), bundle: b });
    // restart: 20 + (1 − 0.425) × 14100 = 8127.5; rollback: 30 + (1 − 0.475) × 14100 = 7432.5
    expect(d.action?.kind).toBe('rollback');
    expect(d.candidates.find((c) => c.action.kind === 'restart')?.expectedCost).toBeCloseTo(8127.5, 6);
    expect(d.resolution.winner).toBe('rollback');
  });
  it('denied or escalated candidates are not eligible', () => {
    const b = bundleWith([scriptedBackend([{ kind: 'restart', params: {} }, { kind: 'rollback', params: {} }], { restart: [verdict('p', 'allow')], rollback: [verdict('p', 'deny')] })]);
    const d = decide({ diagnosis: diagnosis({ hypotheses: [{ cause: 'bad-deployment', confidence: 0.99 }, { cause: 'memory-leak', confidence: 0.2 }] }), context: context(), bundle: b });
    expect(d.action?.kind).toBe('restart');
  });
  it('escalation wins when it is cheaper; the cheapest eligible candidate is the recommendation', () => {
    const b = bundleWith([scriptedBackend([{ kind: 'restart', params: {} }], { restart: [verdict('p', 'allow', { cost: 20_000 })] })]);
    const d = decide({ diagnosis: diagnosis(), context: context(), bundle: b });
    expect(d.mode).toBe('escalate');
    expect(d.action?.kind).toBe('restart');
    expect(d.resolution.winner).toBe('escalate');
  });
  it('action is null when no candidate is eligible', () => {
    const b = bundleWith([scriptedBackend([{ kind: 'restart', params: {} }], { restart: [verdict('p', 'deny')] })]);
    const d = decide({ diagnosis: diagnosis(), context: context(), bundle: b });
    expect(d).toMatchObject({ mode: 'escalate', action: null, support: 0 });
  });
  it('an exact tie with escalation goes to escalation (action cost 0, the conservative choice)', () => {
    // restart: 20 + (1 − 0) × C + verdict cost −20 = C exactly
    const b = bundleWith([scriptedBackend([{ kind: 'restart', params: {} }], { restart: [verdict('p', 'allow', { cost: -20 })] })]);
    const d = decide({ diagnosis: diagnosis({ hypotheses: [{ cause: 'unknown', confidence: 0.9 }] }), context: context(), bundle: b });
    expect(d.mode).toBe('escalate');
  });
  it('ties between candidates: lower actionCost, then kind name', () => {
    const cost = { ...COST, actionCost: { restart: 20, rollback: 20, scale: 10 }, effectiveness: {} };
    const allow = [verdict('p', 'allow', { cost: 0 })];
    const tie = (extra: Record<string, number>) =>
      decide({
        diagnosis: diagnosis({ hypotheses: [{ cause: 'unknown', confidence: 0.9 }] }),
        context: context(),
        bundle: bundleWith([scriptedBackend([{ kind: 'rollback', params: {} }, { kind: 'restart', params: {} }, { kind: 'scale', params: {} }], { restart: allow, rollback: allow, scale: [verdict('p', 'allow', { cost: extra.scale ?? 0 })] })], {}, { ...cost, minutesUnresolved: 1000 }),
      });
    expect(tie({ scale: 10 }).candidates.map((c) => c.expectedCost)).toEqual([20 + 300000, 20 + 300000, 10 + 10 + 300000]);
    // all three cost 300020: scale has the lower actionCost (10)
    expect(tie({ scale: 10 }).resolution.winner).toBe('escalate'); // escalation (300000) is cheaper still
    const noEscalation = decide({
      diagnosis: diagnosis({ hypotheses: [{ cause: 'unknown', confidence: 0.9 }] }),
      context: context(),
      bundle: bundleWith([scriptedBackend([{ kind: 'rollback', params: {} }, { kind: 'restart', params: {} }], { restart: [verdict('p', 'allow', { cost: -300000 })], rollback: [verdict('p', 'allow', { cost: -300000 })] })], {}, { ...cost, minutesUnresolved: 1000 }),
    });
    expect(noEscalation.action?.kind).toBe('restart'); // same cost, same actionCost: kind name
  });
});

describe('§4.4 select: support', () => {
  it('picks the eligible candidate with the highest support', () => {
    const b = bundleWith([scriptedBackend([{ kind: 'restart', params: {} }, { kind: 'rollback', params: {} }], { restart: [verdict('p', 'allow')], rollback: [verdict('p', 'allow')] })], {
      resolution: { combine: 'priority', select: 'support', default: 'escalate' },
    });
    const d = decide({ diagnosis: diagnosis({ hypotheses: [{ cause: 'memory-leak', confidence: 0.6 }, { cause: 'bad-deployment', confidence: 0.4 }] }), context: context(), bundle: b });
    expect(d.action?.kind).toBe('restart');
    expect(d.support).toBeCloseTo(0.6, 9);
    expect(d.resolution.select).toBe('support');
  });
});

describe('§4.2 propose', () => {
  it('de-duplicates candidates by (kind, canonical params) and merges proposers', () => {
    const b = bundleWith([scriptedBackend([{ kind: 'scale', params: { replicas: 4, percent: 10 } }, { kind: 'scale', params: { percent: 10, replicas: 4 }, policy: 'other' }, { kind: 'scale', params: { replicas: 5 } }], {})]);
    const d = decide({ diagnosis: diagnosis({ hypotheses: [{ cause: 'load-surge', confidence: 0.5, suggestedActions: [{ kind: 'scale', params: { replicas: 5 } }] }] }), context: context(), bundle: b });
    expect(d.candidates.map((c) => [c.action.params, c.proposedBy])).toEqual([
      [{ percent: 10, replicas: 4 }, ['other', 'proposer']],
      [{ replicas: 5 }, ['diagnosis', 'proposer']],
    ]);
  });
  it('targets the diagnosis service in its namespace, else the catalog namespace, else default', () => {
    const b = bundleWith([scriptedBackend([{ kind: 'restart', params: {} }], {})]);
    const noNs = diagnosis({ target: { service: 'checkout' } });
    expect(decide({ diagnosis: noNs, context: context({ service: { namespace: undefined } }), bundle: b, service: { criticality: 'high', owners: [], paths: [], bounds: {}, namespace: 'shop' } }).target).toEqual({ service: 'checkout', namespace: 'shop' });
    const ctx = context();
    delete (ctx.service as { namespace?: string }).namespace;
    expect(decide({ diagnosis: noNs, context: ctx, bundle: b }).target).toEqual({ service: 'checkout', namespace: 'default' });
  });
});
