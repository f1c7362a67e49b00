import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combineVerdicts } from '../../engine/decide.ts';
import { Effects, effectRank, type CombineStrategy, type Effect } from '../../engine/types.ts';
import { verdict } from './fixtures.ts';

const STRATEGIES: CombineStrategy[] = ['priority', 'deny-overrides', 'majority', 'first-applicable'];

describe('§4.3 combine: priority', () => {
  it('counts only the verdicts with the highest priority', () => {
    const r = combineVerdicts([verdict('a', 'allow', { priority: 10 }), verdict('b', 'deny', { priority: 50 })], 'priority', 'escalate');
    expect(r.effect).toBe('deny');
    expect(r.overruled.map((v) => v.policy)).toEqual(['a']);
  });
  it('a higher-priority allow beats a lower-priority deny', () => {
    expect(combineVerdicts([verdict('a', 'allow', { priority: 60 }), verdict('b', 'deny', { priority: 50 })], 'priority', 'escalate').effect).toBe('allow');
  });
  it('at equal priority the most conservative effect wins (deny-overrides)', () => {
    const r = combineVerdicts([verdict('a', 'allow', { priority: 5 }), verdict('b', 'notify', { priority: 5 }), verdict('c', 'require_approval', { priority: 5 })], 'priority', 'escalate');
    expect(r.effect).toBe('require_approval');
    expect(r.decisive.map((v) => v.policy)).toEqual(['c']);
  });
});

describe('§4.3 combine: deny-overrides', () => {
  it('the most conservative effect of all verdicts wins, priority ignored', () => {
    expect(combineVerdicts([verdict('a', 'allow', { priority: 100 }), verdict('b', 'escalate', { priority: 1 })], 'deny-overrides', 'escalate').effect).toBe('escalate');
  });
});

describe('§4.3 combine: majority', () => {
  it('the heavier side wins and its most conservative effect is the result', () => {
    const r = combineVerdicts([verdict('a', 'allow', { weight: 2 }), verdict('b', 'notify', { weight: 1 }), verdict('c', 'deny', { weight: 2 })], 'majority', 'escalate');
    expect(r.effect).toBe('notify');
    expect(r.overruled.map((v) => v.policy)).toEqual(['c']);
  });
  it('a tie goes to the restrictive side', () => {
    const r = combineVerdicts([verdict('a', 'allow', { weight: 2 }), verdict('b', 'require_approval', { weight: 1 }), verdict('c', 'escalate', { weight: 1 })], 'majority', 'escalate');
    expect(r.effect).toBe('escalate');
  });
  it('restrictive weight beats permissive weight', () => {
    expect(combineVerdicts([verdict('a', 'allow'), verdict('b', 'require_approval', { weight: 3 })], 'majority', 'escalate').effect).toBe('require_approval');
  });
});

describe('§4.3 combine: first-applicable', () => {
  it('orders by priority (desc), then policy name, then rule order', () => {
    const vs = [verdict('b', 'deny', { priority: 5 }), verdict('a', 'notify', { priority: 5 }), verdict('a', 'deny', { priority: 5 }), verdict('z', 'allow', { priority: 1 })];
    const r = combineVerdicts(vs, 'first-applicable', 'escalate');
    expect(r.effect).toBe('notify');
    expect(r.decisive).toEqual([vs[1]]);
    expect(r.overruled).toHaveLength(3);
  });
  it('a higher priority applies first', () => {
    expect(combineVerdicts([verdict('a', 'deny', { priority: 1 }), verdict('b', 'allow', { priority: 2 })], 'first-applicable', 'escalate').effect).toBe('allow');
  });
});

describe('§4.3 combine: resolution.default', () => {
  it.each(STRATEGIES)('%s: a candidate with no verdict gets the default', (s) => {
    expect(combineVerdicts([], s, 'escalate')).toMatchObject({ effect: 'escalate', defaulted: true });
    expect(combineVerdicts([], s, 'require_approval').effect).toBe('require_approval');
  });
});

describe('§4.3 combine: properties', () => {
  const arbVerdict = fc.record({
    policy: fc.constantFrom('a', 'b', 'c', 'd'),
    effect: fc.constantFrom<Effect>(...Effects),
    priority: fc.integer({ min: 0, max: 5 }),
    weight: fc.integer({ min: 0, max: 3 }),
  });
  it('adding a deny never makes the combined effect more permissive', () => {
    fc.assert(
      fc.property(fc.array(arbVerdict, { maxLength: 8 }), arbVerdict, fc.constantFrom(...STRATEGIES), (vs, extra, strategy) => {
        const before = combineVerdicts(vs.map((v) => verdict(v.policy, v.effect, v)), strategy, 'escalate');
        const withDeny = [...vs.map((v) => verdict(v.policy, v.effect, v)), verdict(extra.policy, 'deny', { priority: extra.priority, weight: Math.max(1, extra.weight) })];
        const after = combineVerdicts(withDeny, strategy, 'escalate');
        expect(effectRank(after.effect)).toBeGreaterThanOrEqual(effectRank(before.effect));
      }),
    );
  });
  it('decisive and overruled partition the verdicts', () => {
    fc.assert(
      fc.property(fc.array(arbVerdict, { minLength: 1, maxLength: 8 }), fc.constantFrom(...STRATEGIES), (vs, strategy) => {
        const all = vs.map((v) => verdict(v.policy, v.effect, v));
        const r = combineVerdicts(all, strategy, 'escalate');
        expect(r.decisive.length + r.overruled.length).toBe(all.length);
        expect(r.decisive.length).toBeGreaterThan(0);
        expect(r.decisive.some((v) => v.effect === r.effect)).toBe(true);
      }),
    );
  });
});
