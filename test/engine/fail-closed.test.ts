// DESIGN §4.8: nothing a policy error does can make a decision more permissive. Random CEL and Rego bundles; one rule
// of each is turned into one that fails at decision time; the mode never moves up the ladder auto < notify <
// approval < escalate, and the failure is listed in the Decision's errors[].
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultCelEngine } from '../../engine/cel/index.ts';
import { compileCelPolicy, createCelBackend } from '../../engine/cel/policy.ts';
import { decide } from '../../engine/decide.ts';
import { renderDecision } from '../../engine/explain.ts';
import { createInterpreterBackend } from '../../engine/rego/backend.ts';
import type { CombineStrategy } from '../../engine/types.ts';
import { ActionKinds, Effects, modeRank, type ActingMode, type ActionKind, type Decision, type Effect, type PolicyBackend } from '../../engine/types.ts';
import { bundleWith, context, diagnosis } from './fixtures.ts';

type Cond = 'always' | 'never' | 'business' | 'leak';
interface Rule {
  proposal: boolean;
  cond: Cond;
  kind: ActionKind;
  effect: Effect;
  priority: number | undefined;
  weight: number | undefined;
  cost: number | undefined;
}
/** How the chosen rule fails: its condition errors, its cost errors, or (Rego) its verdict is malformed. */
type Failure = 'condition' | 'cost' | 'malformed';

const KINDS = ['restart', 'rollback', 'scale'] as const satisfies readonly ActionKind[];
const ruleArb: fc.Arbitrary<Rule> = fc.record({
  proposal: fc.boolean(),
  cond: fc.constantFrom<Cond>('always', 'never', 'business', 'leak'),
  kind: fc.constantFrom(...KINDS),
  effect: fc.constantFrom(...Effects),
  priority: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
  weight: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
  cost: fc.option(fc.integer({ min: -200, max: 200 }), { nil: undefined }),
});
const caseArb = fc.record({
  policies: fc.array(fc.array(ruleArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
  broken: fc.nat(),
  failure: fc.constantFrom<Failure>('condition', 'cost', 'malformed'),
  combine: fc.constantFrom<CombineStrategy>('priority', 'deny-overrides', 'majority', 'first-applicable'),
  select: fc.constantFrom<'cost' | 'support'>('cost', 'support'),
  defaultEffect: fc.constantFrom(...Effects),
  businessHours: fc.boolean(),
  suggested: fc.subarray([...KINDS]),
  confidence: fc.constantFrom(0.5, 0.7, 0.9),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

const CEL_WHEN: Record<Cond, string> = {
  always: 'true',
  never: 'false',
  business: 'context.calendar.businessHours',
  leak: 'diagnosis.hypotheses.exists(h, h.cause == "memory-leak")',
};
const REGO_BODY: Record<Cond, string> = {
  always: 'true',
  never: 'false',
  business: 'input.context.calendar.businessHours',
  leak: 'some h in input.diagnosis.hypotheses\n  h.cause == "memory-leak"',
};

const q = (s: string): string => JSON.stringify(s);

function celPolicy(name: string, rules: readonly Rule[], broken: number, failure: Failure): string {
  const lines = ['apiVersion: arbiter.dev/v1', 'kind: CelPolicy', `metadata: { name: ${name} }`, 'spec:', '  priority: 10'];
  const proposals = rules.map((r, i) => ({ r, i })).filter((x) => x.r.proposal);
  const verdicts = rules.map((r, i) => ({ r, i })).filter((x) => !x.r.proposal);
  if (proposals.length > 0) {
    lines.push('  proposals:');
    for (const { r, i } of proposals) {
      const when = i === broken ? 'diagnosis.signals.missing > 0.0' : CEL_WHEN[r.cond];
      lines.push(`    - { when: ${q(when)}, action: { kind: ${r.kind} }, reason: p${i} }`);
    }
  }
  if (verdicts.length > 0) {
    lines.push('  verdicts:');
    for (const { r, i } of verdicts) {
      const fails = i === broken && failure !== 'cost';
      const when = `action.kind == ${q(r.kind)} && ${fails ? 'diagnosis.signals.missing > 0.0' : CEL_WHEN[r.cond]}`;
      const fields = [`when: ${q(when)}`, `effect: ${r.effect}`, `reason: v${i}`];
      if (r.priority !== undefined) fields.push(`priority: ${r.priority}`);
      if (r.weight !== undefined) fields.push(`weight: ${r.weight}`);
      if (i === broken && failure === 'cost') fields.push(`cost: ${q(`${r.cost ?? 0}.0 + diagnosis.signals.missing`)}`);
      else if (r.cost !== undefined) fields.push(`cost: ${r.cost}`);
      lines.push(`    - { ${fields.join(', ')} }`);
    }
  }
  return lines.join('\n');
}

function regoPolicy(name: string, rules: readonly Rule[], broken: number, failure: Failure): string {
  const lines = [`package arbiter.policies.${name}`, '', 'conflict := 1 if true', '', 'conflict := 2 if true', ''];
  rules.forEach((r, i) => {
    const fails = i === broken;
    const body = fails && failure !== 'malformed' ? `${REGO_BODY[r.cond]}\n  conflict == 1` : REGO_BODY[r.cond];
    if (r.proposal) {
      lines.push(`proposals contains {"kind": ${q(r.kind)}, "reason": "p${i}"} if {\n  ${fails ? 'conflict == 1' : body}\n}`, '');
      return;
    }
    const fields = [`"effect": ${q(fails && failure === 'malformed' ? `${r.effect}y` : r.effect)}`, `"reason": "v${i}"`];
    if (r.priority !== undefined) fields.push(`"priority": ${r.priority}`);
    if (r.weight !== undefined) fields.push(`"weight": ${r.weight}`);
    if (r.cost !== undefined) fields.push(`"cost": ${r.cost}`);
    lines.push(`verdicts contains {${fields.join(', ')}} if {\n  input.action.kind == ${q(r.kind)}\n  ${body}\n}`, '');
  });
  return lines.join('\n');
}

function decideWith(backend: PolicyBackend, c: Case): Decision {
  const d = diagnosis({
    hypotheses: [{ cause: 'memory-leak', confidence: c.confidence, suggestedActions: c.suggested.map((kind) => ({ kind })) }],
  });
  const settings = { resolution: { combine: c.combine, select: c.select, default: c.defaultEffect } };
  return decide({ diagnosis: d, context: context({ calendar: { businessHours: c.businessHours } }), bundle: bundleWith([backend], settings) });
}

const rank = (d: Decision): number => modeRank(d.mode as ActingMode);

/** The index of the broken rule among all rules of all policies: [policy, rule]. */
function brokenAt(c: Case): [number, number] {
  const total = c.policies.reduce((n, p) => n + p.length, 0);
  let k = c.broken % total;
  for (let p = 0; p < c.policies.length; p++) {
    if (k < c.policies[p]!.length) return [p, k];
    k -= c.policies[p]!.length;
  }
  throw new Error('unreachable');
}

describe('a failing rule never makes a decision more permissive (property)', () => {
  it('CEL: a `when` or a cost that errors escalates at the rule priority; a failing proposal adds nothing', () => {
    const engine = defaultCelEngine();
    let failed = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const [bp, br] = brokenAt(c);
        const build = (withFailure: boolean): PolicyBackend =>
          createCelBackend(
            c.policies.map((rules, p) => compileCelPolicy(celPolicy(`p${p}`, rules, withFailure && p === bp ? br : -1, c.failure), `p${p}.cel.yaml`, engine)),
            {},
          );
        const before = decideWith(build(false), c);
        const after = decideWith(build(true), c);
        expect(before.errors).toBeUndefined();
        if (after.errors) failed++;
        expect(rank(after), `${before.mode} → ${after.mode}`).toBeGreaterThanOrEqual(rank(before));
        for (const e of after.errors ?? []) expect(e).toMatchObject({ policy: `p${bp}`, source: { file: `p${bp}.cel.yaml` } });
      }),
      { numRuns: 400 },
    );
    expect(failed).toBeGreaterThan(50); // the broken rule was actually reached in many runs
  });

  it('Rego: an evaluation error or a malformed verdict escalates its package; a failing proposal adds nothing', () => {
    let failed = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const [bp, br] = brokenAt(c);
        const build = (withFailure: boolean): PolicyBackend =>
          createInterpreterBackend({
            regoModules: c.policies.map((rules, p) => ({ file: `p${p}.rego`, source: regoPolicy(`p${p}`, rules, withFailure && p === bp ? br : -1, c.failure) })),
            data: {},
            celPolicies: [],
          });
        const before = decideWith(build(false), c);
        const after = decideWith(build(true), c);
        expect(before.errors).toBeUndefined();
        if (after.errors) failed++;
        expect(rank(after), `${before.mode} → ${after.mode}`).toBeGreaterThanOrEqual(rank(before));
        for (const e of after.errors ?? []) expect(e.policy).toBe(`p${bp}`);
      }),
      { numRuns: 250 },
    );
    expect(failed).toBeGreaterThan(30);
  });
});

describe('errors are named in the Decision and in --explain', () => {
  it('a deny whose `when` fails at run time escalates instead of vanishing', () => {
    const text = celPolicy('guard', [{ proposal: false, cond: 'always', kind: 'restart', effect: 'deny', priority: 50, weight: undefined, cost: undefined }], 0, 'condition');
    const backend = createCelBackend([compileCelPolicy(text, 'guard.cel.yaml', defaultCelEngine())], {});
    const d = decide({ diagnosis: diagnosis({ hypotheses: [{ cause: 'memory-leak', confidence: 0.95, suggestedActions: [{ kind: 'restart' }] }] }), context: context(), bundle: bundleWith([backend]) });
    expect(d.mode).toBe('escalate');
    expect(d.candidates[0]!.verdicts).toEqual([expect.objectContaining({ policy: 'guard', effect: 'escalate', priority: 50, error: expect.stringMatching(/missing/) })]);
    expect(d.errors).toEqual([
      { policy: 'guard', rule: 'verdicts[0]', phase: 'judge', candidate: 'restart', message: expect.stringMatching(/missing/), source: { file: 'guard.cel.yaml', rule: 'guard/verdicts[0]', row: 7, col: 7 } },
    ]);
    const text2 = renderDecision(d, true);
    expect(text2).toMatch(/policy errors \(each failed closed\):\n {2}guard\/verdicts\[0\] \(judge restart\) at guard\.cel\.yaml:7:7: .*missing/);
    expect(d.guardrails.find((g) => g.name === 'policy-errors')).toMatchObject({ applied: true });
  });

  it('a failing proposal caps the mode at approval, so a less careful candidate cannot win unattended', () => {
    const text = celPolicy('prop', [{ proposal: true, cond: 'always', kind: 'rollback', effect: 'allow', priority: undefined, weight: undefined, cost: undefined }], 0, 'condition');
    const allow = celPolicy('ok', [{ proposal: false, cond: 'always', kind: 'restart', effect: 'allow', priority: undefined, weight: undefined, cost: undefined }], -1, 'condition');
    const engine = defaultCelEngine();
    const backend = createCelBackend([compileCelPolicy(text, 'prop.cel.yaml', engine), compileCelPolicy(allow, 'ok.cel.yaml', engine)], {});
    const d = decide({ diagnosis: diagnosis({ hypotheses: [{ cause: 'memory-leak', confidence: 0.95, suggestedActions: [{ kind: 'restart' }] }] }), context: context(), bundle: bundleWith([backend]) });
    expect(d.action?.kind).toBe('restart');
    expect(d.mode).toBe('approval');
    expect(d.errors).toEqual([expect.objectContaining({ policy: 'prop', phase: 'propose', rule: 'proposals[0]' })]);
    expect(d.rationale.join('\n')).toMatch(/1 policy error while deciding .*mode lowered from auto to approval/);
  });

  it('a decision without errors has no errors field', () => {
    const d = decide({ diagnosis: diagnosis(), context: context(), bundle: bundleWith([]) });
    expect(d).not.toHaveProperty('errors');
  });
});

// keep the import list honest: every action kind the generators use exists
it('the generated kinds are action kinds', () => {
  for (const k of KINDS) expect(ActionKinds).toContain(k);
});
