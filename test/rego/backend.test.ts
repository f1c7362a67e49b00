import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../engine/bundle.ts';
import { BundleError, InputError } from '../../engine/errors.ts';
import { POLICY_LIMITS, RegoProposal, RegoVerdict, compileBundleModules, createInterpreterBackend, isWellFormedProposal, isWellFormedVerdict, regoPolicies } from '../../engine/rego/backend.ts';
import type { Action, Context, Diagnosis, PolicyError, PolicyInput } from '../../engine/types.ts';

const tmp = mkdtempSync(join(tmpdir(), 'arbiter-rego-backend-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const diagnosis: Diagnosis = {
  apiVersion: 'arbiter.dev/v1',
  kind: 'Diagnosis',
  id: 'diag-1',
  incident: 'INC-1',
  observedAt: '2026-11-21T02:13:00Z',
  target: { service: 'checkout', namespace: 'shop' },
  signals: { errorRate: 0.2 },
  hypotheses: [{ cause: 'memory-leak', confidence: 0.9 }],
};
const context: Context = {
  now: '2026-11-21T02:13:00Z',
  service: { name: 'checkout', namespace: 'shop', criticality: 'high', owners: [] },
  calendar: { businessHours: false, maintenanceWindow: false, changeFreeze: false, peakEvent: null },
  history: { incidentActions: 0, serviceActionsLastHour: 0, circuitOpen: false },
  killSwitch: false,
};
const action = (kind: Action['kind'], params: Action['params'] = {}): Action => ({ kind, target: { service: 'checkout', namespace: 'shop' }, params });

function backendOf(modules: Record<string, string>, data: Record<string, unknown> = {}, limits?: { maxSteps?: number; maxDepth?: number; timeoutMs?: number }) {
  const regoModules = Object.entries(modules).map(([file, source]) => ({ file, source }));
  return createInterpreterBackend({ regoModules, data, celPolicies: [] }, limits ? { limits } : {});
}

const judge = (b: ReturnType<typeof backendOf>, a: Action, input: Partial<PolicyInput> = {}) => b.judge({ diagnosis, context, ...input, action: a });

describe('proposals', () => {
  it('each member of a package set becomes a Proposal named after the package, params default to {}', () => {
    const b = backendOf({
      'leak.rego': 'package arbiter.policies.leak\n\nproposals contains {"kind": "restart", "reason": "leak"} if input.diagnosis.hypotheses[_].cause == "memory-leak"\n',
    });
    expect(b.policies).toEqual(['leak']);
    expect(b.propose({ diagnosis, context })).toEqual([
      { policy: 'leak', kind: 'restart', params: {}, reason: 'leak', source: { file: 'leak.rego', row: 3, col: 1, rule: 'data.arbiter.policies.leak.proposals' } },
    ]);
  });

  it('input.action is absent while proposing', () => {
    const b = backendOf({ 'p.rego': 'package arbiter.policies.p\nproposals contains {"kind": "scale"} if not input.action\n' });
    expect(b.propose({ diagnosis, context }).map((p) => p.kind)).toEqual(['scale']);
  });

  it('an array of proposals keeps its order', () => {
    const b = backendOf({ 'p.rego': 'package arbiter.policies.p\nproposals := [{"kind": "scale", "params": {"percent": 50}}, {"kind": "restart"}]\n' });
    expect(b.propose({ diagnosis, context }).map((p) => p.kind)).toEqual(['scale', 'restart']);
  });
});

describe('verdicts', () => {
  it('apply the defaults priority 0, weight 1, cost 0 and carry the producing rule as source', () => {
    const b = backendOf({ 'v.rego': 'package arbiter.policies.v\n\nverdicts contains {"effect": "allow", "reason": "ok"} if input.action.kind == "restart"\n' });
    expect(judge(b, action('restart'))).toEqual([
      { policy: 'v', effect: 'allow', priority: 0, weight: 1, cost: 0, reason: 'ok', source: { file: 'v.rego', row: 3, col: 1, rule: 'data.arbiter.policies.v.verdicts' } },
    ]);
    expect(judge(b, action('rollback'))).toEqual([]);
  });

  it('are reported in rule order (file row), each with its own rule', () => {
    const b = backendOf({
      'v.rego': [
        'package arbiter.policies.v',
        'verdicts contains {"effect": "notify", "reason": "z second rule", "priority": 3} if true',
        'verdicts contains {"effect": "deny", "reason": "a third rule", "weight": 2, "cost": 7.5} if true',
        'verdicts contains {"effect": "allow", "reason": "m fourth rule"} if true',
      ].join('\n'),
    });
    const vs = judge(b, action('scale'));
    expect(vs.map((v) => [v.effect, v.source?.row])).toEqual([['notify', 2], ['deny', 3], ['allow', 4]]);
    expect(vs[1]).toMatchObject({ weight: 2, cost: 7.5, priority: 0 });
  });

  it('packages are evaluated together, each verdict named after its package', () => {
    const b = backendOf({
      'a.rego': 'package arbiter.policies.a\nverdicts contains {"effect": "allow", "reason": "a"} if true\n',
      'b.rego': 'package arbiter.policies.b\nverdicts contains {"effect": "deny", "reason": "b", "priority": 9} if input.action.kind == "restart"\n',
      'lib.rego': 'package arbiter.lib\nhelper := 1\n',
    });
    expect(b.policies).toEqual(['a', 'b']);
    expect(judge(b, action('restart')).map((v) => `${v.policy}:${v.effect}`).sort()).toEqual(['a:allow', 'b:deny']);
  });

  it('time.now_ns() is the context time, so evaluation is pure', () => {
    const b = backendOf({ 't.rego': 'package arbiter.policies.t\nverdicts contains {"effect": "allow", "reason": sprintf("%d", [time.now_ns()])} if true\n' });
    expect(judge(b, action('restart'))[0]?.reason).toBe(String(BigInt(Date.parse(context.now)) * 1_000_000n));
  });

  it('the bundle data is visible as data.*', () => {
    const b = backendOf({ 'd.rego': 'package arbiter.policies.d\nverdicts contains {"effect": "allow", "reason": "x", "cost": data.arbiter.cost.extra} if true\n' }, { arbiter: { cost: { extra: 12 } } });
    expect(judge(b, action('restart'))[0]?.cost).toBe(12);
  });
});

describe('malformed members fail closed and name the policy (DESIGN §4.8)', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an unknown effect', 'verdicts contains {"effect": "maybe", "reason": "x"} if true', /effect/],
    ['a missing reason', 'verdicts contains {"effect": "allow"} if true', /reason/],
    ['a misspelt field', 'verdicts contains {"effect": "allow", "reason": "x", "priorty": 3} if true', /priorty/],
    ['a negative weight', 'verdicts contains {"effect": "allow", "reason": "x", "weight": -1} if true', /weight/],
    ['a string instead of a set', 'verdicts := "deny"', /must be a set or an array/],
  ];
  for (const [what, rule, message] of cases) {
    it(`${what} is an escalate verdict and an error naming the policy`, () => {
      const b = backendOf({ 'bad.rego': `package arbiter.policies.bad\n${rule}\n` });
      const errors: PolicyError[] = [];
      const vs = b.judge({ diagnosis, context, action: action('restart') }, errors);
      expect(vs).toHaveLength(1);
      expect(vs[0]).toMatchObject({ policy: 'bad', effect: 'escalate' });
      expect(vs[0]!.error).toMatch(message);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ policy: 'bad', phase: 'judge', source: { file: 'bad.rego' } });
      expect(errors[0]!.message).toMatch(message);
    });
  }

  it('a malformed verdict keeps the priority it states', () => {
    const b = backendOf({ 'bad.rego': 'package arbiter.policies.bad\nverdicts contains {"effect": "denny", "priority": 70, "reason": "x"} if true\n' });
    expect(judge(b, action('restart'))[0]).toMatchObject({ effect: 'escalate', priority: 70, weight: 1, cost: 0 });
  });

  it('an unknown action kind in a proposal adds no proposal and is reported', () => {
    const b = backendOf({ 'bad.rego': 'package arbiter.policies.bad\nproposals contains {"kind": "reboot-the-world"} if true\nproposals contains {"kind": "restart"} if true\n' });
    const errors: PolicyError[] = [];
    expect(b.propose({ diagnosis, context }, errors).map((p) => p.kind)).toEqual(['restart']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ policy: 'bad', phase: 'propose', source: { file: 'bad.rego', row: 2 } });
    expect(errors[0]!.message).toMatch(/kind/);
  });

  it('an evaluation error fails only its package, at the highest priority its verdict rules write', () => {
    const b = backendOf({
      'good.rego': 'package arbiter.policies.good\nverdicts contains {"effect": "allow", "reason": "fine", "priority": 5} if true\n',
      'bad.rego': [
        'package arbiter.policies.bad',
        'x := 1 if true',
        'x := 2 if true',
        'verdicts contains {"effect": "allow", "reason": "a", "priority": 20, "cost": 3} if x == 1',
        'verdicts contains {"effect": "deny", "reason": "b", "priority": 40, "weight": 2} if true',
      ].join('\n'),
    });
    const errors: PolicyError[] = [];
    const vs = b.judge({ diagnosis, context, action: action('restart') }, errors);
    expect(vs.map((v) => `${v.policy}:${v.effect}`).sort()).toEqual(['bad:escalate', 'good:allow']);
    expect(vs.find((v) => v.policy === 'bad')).toMatchObject({ priority: 40, weight: 3, cost: 3 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ policy: 'bad', phase: 'judge' });
    expect(errors[0]!.message).toMatch(/conflict/);
  });
});

describe('the hot-path shape checks accept nothing the schemas reject (property)', () => {
  const scalar = fc.oneof(fc.string({ maxLength: 1100 }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
  const loose = fc.dictionary(fc.constantFrom('effect', 'priority', 'weight', 'cost', 'reason', 'kind', 'params', 'x'), fc.oneof(scalar, fc.constantFrom('allow', 'deny', 'restart', 'scale', 'bogus'), fc.dictionary(fc.string({ maxLength: 70 }), scalar, { maxKeys: 3 })));
  it('verdicts', () => {
    fc.assert(fc.property(loose, (x) => !isWellFormedVerdict(x) || RegoVerdict.safeParse(x).success), { numRuns: 2000 });
  });
  it('proposals', () => {
    fc.assert(fc.property(loose, (x) => !isWellFormedProposal(x) || RegoProposal.safeParse(x).success), { numRuns: 2000 });
  });
  it('and they accept the well-formed members the shipped policies produce', () => {
    expect(isWellFormedVerdict({ effect: 'deny', priority: 60, reason: 'r' })).toBe(true);
    expect(isWellFormedProposal({ kind: 'set-config', params: { configMap: 'cart-db', key: 'poolSize', value: 60, revertAfter: '30m' }, reason: 'r' })).toBe(true);
  });
});

describe('compiling', () => {
  it('a compile error is a BundleError at file:row:col with OPA\'s code', () => {
    expect(() => backendOf({ 'broken.rego': 'package arbiter.policies.broken\nverdicts contains x if {\n  y := 1\n}\n' })).toThrow(BundleError);
    expect(() => backendOf({ 'broken.rego': 'package arbiter.policies.broken\nverdicts contains x if {\n  y := 1\n}\n' })).toThrow(/broken\.rego:\d+:\d+: .*rego_unsafe_var_error/);
    expect(() => backendOf({ 'parse.rego': 'package arbiter.policies.parse\nverdicts contains {\n' })).toThrow(/parse\.rego:\d+:\d+: rego_parse_error/);
  });

  it('policy names must be policy names', () => {
    expect(() => backendOf({ 'x.rego': 'package arbiter.policies.Bad_Name\nverdicts contains {"effect": "allow", "reason": "x"} if true\n' })).toThrow(/policy names must match/);
  });

  it('test modules are not policies', () => {
    const b = backendOf({
      'p.rego': 'package arbiter.policies.p\nverdicts contains {"effect": "allow", "reason": "x"} if true\n',
      'p_test.rego': 'package arbiter.policies.p_test\nverdicts contains {"effect": "deny", "reason": "test"} if true\n',
    });
    expect(b.policies).toEqual(['p']);
  });

  it('a policy name used by both a CEL and a Rego policy is refused at load', async () => {
    const dir = join(tmp, 'clash');
    rmSync(dir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'same.cel.yaml'), 'apiVersion: arbiter.dev/v1\nkind: CelPolicy\nmetadata: { name: same }\nspec:\n  verdicts:\n    - effect: allow\n      reason: cel\n');
    writeFileSync(join(dir, 'same.rego'), 'package arbiter.policies.same\nverdicts contains {"effect": "deny", "reason": "rego"} if true\n');
    await expect(loadBundle(dir)).rejects.toThrow(/policy name "same" is used by both same\.cel\.yaml and same\.rego/);
  });

  it('a bundle may mix CEL and Rego policies', async () => {
    const dir = join(tmp, 'mixed');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cel_side.cel.yaml'), 'apiVersion: arbiter.dev/v1\nkind: CelPolicy\nmetadata: { name: cel_side }\nspec:\n  verdicts:\n    - effect: allow\n      reason: cel\n');
    writeFileSync(join(dir, 'rego_side.rego'), 'package arbiter.policies.rego_side\nverdicts contains {"effect": "notify", "reason": "rego"} if true\n');
    const bundle = await loadBundle(dir);
    expect(bundle.backends.map((b) => b.name).sort()).toEqual(['cel', 'rego']);
    const verdicts = bundle.backends.flatMap((b) => b.judge({ diagnosis, context, action: action('restart') }));
    expect(verdicts.map((v) => `${v.policy}:${v.effect}`).sort()).toEqual(['cel_side:allow', 'rego_side:notify']);
  });
});

describe('rule index on input.action.kind', () => {
  it('a package whose every verdict rule tests input.action.kind judges only those kinds', () => {
    const compiled = compileBundleModules({
      regoModules: [
        { file: 'a.rego', source: 'package arbiter.policies.a\nverdicts contains {"effect": "allow", "reason": "x"} if input.action.kind == "restart"\nverdicts contains {"effect": "deny", "reason": "y"} if { "scale" == input.action.kind }\n' },
        { file: 'b.rego', source: 'package arbiter.policies.b\nverdicts contains {"effect": "allow", "reason": "x"} if input.action.kind in {"rollback", "restart"}\n' },
        { file: 'c.rego', source: 'package arbiter.policies.c\nverdicts contains {"effect": "allow", "reason": "x"} if input.action.kind == "restart"\nverdicts contains {"effect": "deny", "reason": "y"} if true\n' },
      ],
    });
    const index = Object.fromEntries(regoPolicies(compiled).map((p) => [p.name, p.judgesKinds ? [...p.judgesKinds].sort() : null]));
    expect(index).toEqual({ a: ['restart', 'scale'], b: ['restart', 'rollback'], c: null });
  });

  it('indexing never changes a verdict (property)', () => {
    const kinds = ['rollback', 'restart', 'scale', 'shift-traffic', 'set-config', 'patch-image'] as const;
    const b = backendOf({
      'a.rego': 'package arbiter.policies.a\nverdicts contains {"effect": "allow", "reason": input.action.kind} if input.action.kind in {"restart", "scale"}\n',
      'b.rego': 'package arbiter.policies.b\nverdicts contains {"effect": "deny", "reason": "b"} if { input.action.kind == "rollback"; input.diagnosis.signals.errorRate > 0.1 }\n',
      'c.rego': 'package arbiter.policies.c\nverdicts contains {"effect": "notify", "reason": input.action.kind} if startswith(input.action.kind, "s")\n',
    });
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.double({ min: 0, max: 1, noNaN: true }), (kind, errorRate) => {
        const got = judge(b, action(kind), { diagnosis: { ...diagnosis, signals: { errorRate } } }).map((v) => `${v.policy}:${v.effect}:${v.reason}`).sort();
        const want = [
          ...(kind === 'restart' || kind === 'scale' ? [`a:allow:${kind}`] : []),
          ...(kind === 'rollback' && errorRate > 0.1 ? ['b:deny:b'] : []),
          ...(kind.startsWith('s') ? [`c:notify:${kind}`] : []),
        ].sort();
        expect(got).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });
});

describe('safety', () => {
  const failure = (b: ReturnType<typeof backendOf>): { verdicts: ReturnType<typeof judge>; errors: PolicyError[] } => {
    const errors: PolicyError[] = [];
    return { verdicts: b.judge({ diagnosis, context, action: action('restart') }, errors), errors };
  };

  it('a policy that loops is stopped with an error naming the policy, and fails closed', () => {
    const b = backendOf(
      { 'spin.rego': 'package arbiter.policies.spin\nverdicts contains {"effect": "allow", "reason": "x"} if {\n  count([x | some x in numbers.range(1, 1000000); x >= 0]) > 0\n}\n' },
      {},
      { maxSteps: 20_000 },
    );
    const { verdicts, errors } = failure(b);
    expect(verdicts.map((v) => [v.policy, v.effect])).toEqual([['spin', 'escalate']]);
    expect(errors.map((e) => e.policy)).toEqual(['spin']);
    expect(errors[0]!.message).toMatch(/eval_cancel_error.*\(limits: 20000 steps/);
  });

  it('a policy that loops within its step budget is stopped by the 250 ms time budget, naming the policy, and fails closed', () => {
    expect(POLICY_LIMITS.timeoutMs).toBe(250);
    const b = backendOf(
      {
        'slow.rego':
          'package arbiter.policies.slow\nverdicts contains {"effect": "allow", "reason": "x"} if {\n  some x in numbers.range(1, 20000)\n  some y in numbers.range(1, 20000)\n  x + y < 0\n}\n',
      },
      {},
      { maxSteps: Number.MAX_SAFE_INTEGER },
    );
    const start = performance.now();
    const { verdicts, errors } = failure(b);
    expect(verdicts.map((v) => [v.policy, v.effect])).toEqual([['slow', 'escalate']]);
    expect(errors.map((e) => e.policy)).toEqual(['slow']);
    expect(errors[0]!.message).toMatch(/eval_cancel_error: evaluation exceeded its time budget \(250 ms\).*250 ms; does a rule loop\?/);
    expect(performance.now() - start).toBeLessThan(2_000);
  });

  it('a deeply nested input is refused before evaluation', () => {
    const b = backendOf({ 'p.rego': 'package arbiter.policies.p\nverdicts contains {"effect": "allow", "reason": "x"} if true\n' });
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 60; i++) deep = { x: deep };
    const nested = { ...diagnosis, subjectTree: deep } as unknown as Diagnosis;
    expect(() => judge(b, action('restart'), { diagnosis: nested })).toThrow(InputError);
    expect(() => judge(b, action('restart'), { diagnosis: nested })).toThrow(/input\.diagnosis: nested deeper than 32 levels/);
  });

  it('a huge input is refused before evaluation', () => {
    const b = backendOf({ 'p.rego': 'package arbiter.policies.p\nverdicts contains {"effect": "allow", "reason": "x"} if true\n' });
    const signals = Object.fromEntries(Array.from({ length: 120_000 }, (_, i) => [`s${i}`, i]));
    expect(() => judge(b, action('restart'), { diagnosis: { ...diagnosis, signals } })).toThrow(/more than 100000 values/);
  });

  it('network builtins do not reach the network: the rule is undefined, no verdict', () => {
    const b = backendOf({ 'net.rego': 'package arbiter.policies.net\nverdicts contains {"effect": "allow", "reason": "fetched"} if {\n  http.send({"method": "GET", "url": "http://127.0.0.1:9/"}).status_code == 200\n}\n' });
    expect(judge(b, action('restart'))).toEqual([]);
  });
});
