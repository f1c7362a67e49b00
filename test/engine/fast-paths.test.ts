// Every fast path of a decision gives exactly what the plain computation gives: the CEL backend's shortcuts (guards,
// lazily evaluated variables, per-kind policy lists) against evaluating every variable in declaration order and every
// match and when by CEL; canonical JSON, sha256 and cost formatting against their straightforward definitions.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../engine/canonical.ts';
import { formatCost } from '../../engine/decide.ts';
import { celToPlain, defaultCelEngine, type CelEngine, type CelObjectType, type CelProgram, type CelVariable } from '../../engine/cel/index.ts';
import { compileCelPolicy, createCelBackend, type CompiledCelPolicy } from '../../engine/cel/policy.ts';
import { ActionKinds, UNKNOWN_COST, type Action, type PolicyInput, type Proposal, type Verdict } from '../../engine/types.ts';
import { context, diagnosis } from './fixtures.ts';

type Activation = Record<string, unknown>;

/** Throws when the expression errors or gives a non-bool: the caller fails closed, as the backend does. */
function holdsPlainly(program: CelProgram | undefined, activation: Activation): boolean {
  if (!program) return true;
  const v = program.evaluate(activation);
  if (typeof v !== 'boolean') throw new Error('not a bool');
  return v;
}

function costPlainly(cost: number | CelProgram, activation: Activation): number {
  if (typeof cost === 'number') return cost;
  const c = celToPlain(cost.evaluate(activation));
  if (typeof c !== 'number' || !Number.isFinite(c)) throw new Error('not a number');
  return c;
}

/** The escalate verdict of a failed rule, its message left out (compared by `withoutMessages`). */
function failedPlainly(policy: string, rule: CompiledCelPolicy['verdicts'][number], activation: Activation): Verdict {
  let cost: number;
  try {
    cost = Math.max(0, costPlainly(rule.cost, activation));
  } catch {
    cost = UNKNOWN_COST;
  }
  return { policy, effect: 'escalate', priority: rule.priority, weight: rule.weight, cost, reason: 'ERROR', error: 'ERROR', source: rule.source };
}

/** Error verdicts compared without their messages (the backend names failed variables, the reference does not). */
const withoutMessages = (vs: Verdict[]): Verdict[] => vs.map((v) => (v.error === undefined ? v : { ...v, reason: 'ERROR', error: 'ERROR' }));

function variablesPlainly(policy: CompiledCelPolicy, base: Activation): Activation {
  const values: Record<string, unknown> = {};
  const scoped = { ...base, variables: values };
  for (const [name, program] of policy.variables) {
    try {
      values[name] = program.evaluate(scoped);
    } catch {
      // absent, as in the backend
    }
  }
  return scoped;
}

function reasonPlainly(text: string | undefined, program: CelProgram | undefined, activation: Activation, fallback: string): string {
  if (!program) return text ?? fallback;
  const v = program.evaluate(activation);
  if (typeof v !== 'string') throw new Error('not a string');
  return v;
}

/** The reference: no shortcut at all (what the backend did before it was optimised). */
function plainBackend(policies: CompiledCelPolicy[]) {
  const sorted = [...policies].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const activationOf = (input: PolicyInput): Activation => {
    const a: Activation = { diagnosis: input.diagnosis.signals ? input.diagnosis : { ...input.diagnosis, signals: {} }, context: input.context, now: new Date(input.context.now), data: {}, variables: {} };
    if (input.action) a.action = input.action;
    return a;
  };
  return {
    propose(input: PolicyInput): Proposal[] {
      const out: Proposal[] = [];
      for (const policy of sorted) {
        if (policy.proposals.length === 0) continue;
        const activation = variablesPlainly(policy, activationOf(input));
        for (const rule of policy.proposals) {
          try {
            if (!holdsPlainly(rule.when, activation)) continue;
            const params: Record<string, unknown> = { ...rule.params };
            for (const [key, program] of rule.paramsExpr) params[key] = celToPlain(program.evaluate(activation));
            const proposal: Proposal = { policy: policy.name, kind: rule.kind, params: params as Proposal['params'], source: rule.source };
            const reason = reasonPlainly(rule.reason, rule.reasonExpr, activation, '');
            if (reason) proposal.reason = reason;
            out.push(proposal);
          } catch {
            // a failed proposal adds nothing
          }
        }
      }
      return out;
    },
    judge(input: PolicyInput & { action: Action }): Verdict[] {
      const out: Verdict[] = [];
      const base = activationOf(input);
      for (const policy of sorted) {
        if (policy.verdicts.length === 0) continue;
        let matches: boolean;
        try {
          matches = holdsPlainly(policy.match, base);
        } catch {
          for (const rule of policy.verdicts) out.push(failedPlainly(policy.name, rule, base));
          continue;
        }
        if (!matches) continue;
        const activation = variablesPlainly(policy, base);
        for (const rule of policy.verdicts) {
          try {
            if (!holdsPlainly(rule.when, activation)) continue;
            const cost = costPlainly(rule.cost, activation);
            out.push({ policy: policy.name, effect: rule.effect, priority: rule.priority, weight: rule.weight, cost, reason: reasonPlainly(rule.reason, rule.reasonExpr, activation, `${policy.name}: ${rule.effect}`), source: rule.source });
          } catch {
            out.push(failedPlainly(policy.name, rule, activation));
          }
        }
      }
      return out;
    },
  };
}

/** Counts evaluations per expression source, to show which expressions the backend skipped. */
function countingEngine(inner: CelEngine): { engine: CelEngine; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return {
    counts,
    engine: {
      name: inner.name,
      compile(source: string, variables: readonly CelVariable[], types?: readonly CelObjectType[]): CelProgram {
        const program = inner.compile(source, variables, types);
        return {
          source: program.source,
          resultType: program.resultType,
          evaluate(activation) {
            counts.set(source, (counts.get(source) ?? 0) + 1);
            return program.evaluate(activation);
          },
        };
      },
    },
  };
}

const quote = (s: string): string => JSON.stringify(s);
function policyText(name: string, spec: { match?: string; variables?: Array<[string, string]>; proposals?: string[]; verdicts?: string[] }): string {
  const lines = ['apiVersion: arbiter.dev/v1', 'kind: CelPolicy', `metadata: { name: ${name} }`, 'spec:', '  priority: 10'];
  if (spec.match) lines.push(`  match: ${quote(spec.match)}`);
  if (spec.variables?.length) {
    lines.push('  variables:');
    for (const [n, e] of spec.variables) lines.push(`    - { name: ${n}, expression: ${quote(e)} }`);
  }
  if (spec.proposals?.length) {
    lines.push('  proposals:');
    for (const w of spec.proposals) lines.push(`    - { when: ${quote(w)}, action: { kind: restart }, reasonExpr: ${quote('"p " + string(has(variables.a) ? variables.a : "-")')} }`);
  }
  if (spec.verdicts?.length) {
    lines.push('  verdicts:');
    spec.verdicts.forEach((w, i) => lines.push(`    - { when: ${quote(w)}, effect: ${i % 2 ? 'deny' : 'allow'}, reason: r${i} }`));
  }
  return lines.join('\n');
}

// variable expressions: reading earlier, later, unknown and all variables, errors, has()
const VARIABLE_EXPRESSIONS = [
  'diagnosis.signals.errorRate > 0.1',
  'has(diagnosis.signals.errorRate)',
  'diagnosis.signals.missing > 1.0',
  'has(variables.a) && variables.a == true',
  'has(variables.c)',
  'variables.a || variables.b',
  'variables.b && context.calendar.businessHours',
  'has(variables.zz)',
  'variables["a"] == true',
  'size(variables) > 1',
  'context.service.criticality == "critical"',
  'diagnosis.hypotheses.exists(h, h.cause == "memory-leak")',
  '{"k": true, "s": "x"}',
  '[true]',
  'context.calendar',
];
// rule conditions: guards alone, guards with a rest, `||` and `?` that forbid the shortcut, strings that look like guards
const WHEN_EXPRESSIONS = [
  'variables.a',
  'variables.b',
  'variables.c',
  'variables.a && variables.b',
  'variables.a && variables.c || true',
  'variables.b && (true ? variables.c : false)',
  'variables.zz && true',
  'variables.a && "x||y" == "x||y"',
  'action.kind == "restart"',
  'action.kind == "restart" && variables.b',
  'action.kind == "scale" || variables.a',
  'action.kind == "scale" && context.calendar.businessHours',
  'context.calendar.businessHours',
  'variables.a == true && variables.c',
  'true',
  'context.calendar.businessHours && variables.a',
  'context.service.criticality == "critical"',
  'context.service.criticality == "critical" && variables.b',
  'context.calendar.peakEvent == "black friday"',
  'diagnosis.signals.errorRate',
  'diagnosis.target.namespace == "shop" && variables.a || variables.b',
  'variables.a.k',
  'variables.a.s == "x"',
  'variables.b.businessHours',
  'variables.c.k && true',
  'data.flag',
  'action.params.key == "poolSize"',
];
const PROPOSE_WHEN = WHEN_EXPRESSIONS.filter((w) => !w.includes('action'));
const MATCHES = [undefined, 'context.calendar.businessHours && action.kind == "scale"', 'action.kind == "restart"', 'action.kind == "scale"', 'action.kind == "restart" && variables.size() == 0', 'action.kind == "rollback" || true', 'context.calendar.businessHours'];

const policyArb = fc.record({
  match: fc.constantFrom(...MATCHES),
  variables: fc.subarray(['a', 'b', 'c'], { minLength: 0 }).chain((names) => fc.tuple(...names.map((n) => fc.tuple(fc.constant(n), fc.constantFrom(...VARIABLE_EXPRESSIONS))))),
  proposals: fc.array(fc.constantFrom(...PROPOSE_WHEN), { maxLength: 3 }),
  verdicts: fc.array(fc.constantFrom(...WHEN_EXPRESSIONS), { maxLength: 4 }),
});

const inputArb = fc.record({
  errorRate: fc.option(fc.constantFrom(0.05, 0.2), { nil: undefined }),
  businessHours: fc.boolean(),
  criticality: fc.constantFrom('critical', 'high'),
  cause: fc.constantFrom('memory-leak', 'bad-deployment'),
  kind: fc.constantFrom(...ActionKinds),
});

describe('CEL backend shortcuts give what plain evaluation gives', () => {
  it('random policies and inputs: same proposals and verdicts as evaluating everything', () => {
    const engine = defaultCelEngine();
    fc.assert(
      fc.property(fc.array(policyArb, { minLength: 1, maxLength: 3 }), fc.array(inputArb, { minLength: 1, maxLength: 4 }), (specs, inputs) => {
        const compiled: CompiledCelPolicy[] = [];
        specs.forEach((spec, i) => {
          try {
            compiled.push(compileCelPolicy(policyText(`p${i}`, spec), `p${i}.cel.yaml`, engine));
          } catch {
            // a combination that does not type-check is not a policy
          }
        });
        const fast = createCelBackend(compiled, {});
        const plain = plainBackend(compiled);
        for (const x of inputs) {
          const d = diagnosis({ signals: x.errorRate === undefined ? {} : { errorRate: x.errorRate }, hypotheses: [{ cause: x.cause, confidence: 0.9 }] });
          const c = context({ calendar: { businessHours: x.businessHours }, service: { criticality: x.criticality } });
          expect(fast.propose({ diagnosis: d, context: c })).toEqual(plain.propose({ diagnosis: d, context: c }));
          const action: Action = { kind: x.kind, target: { service: 'checkout', namespace: 'shop' }, params: {} };
          expect(withoutMessages(fast.judge({ diagnosis: d, context: c, action }))).toEqual(withoutMessages(plain.judge({ diagnosis: d, context: c, action })));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a variable reading a later one sees it absent, as in declaration order', () => {
    const policy = compileCelPolicy(policyText('later', { variables: [['a', 'has(variables.b)'], ['b', 'true']], verdicts: ['variables.a', 'variables.b && !variables.a'] }), 'later.cel.yaml', defaultCelEngine());
    const verdicts = createCelBackend([policy], {}).judge({ diagnosis: diagnosis(), context: context(), action: { kind: 'restart', target: { service: 'checkout', namespace: 'shop' }, params: {} } });
    expect(verdicts.map((v) => v.reason)).toEqual(['r1']);
  });
});

describe('CEL backend skips what cannot change a result', () => {
  const action = (kind: Action['kind']): Action => ({ kind, target: { service: 'checkout', namespace: 'shop' }, params: {} });

  it('a false guard variable skips the rest of the && chain and the variables only it needs', () => {
    const { engine, counts } = countingEngine(defaultCelEngine());
    const policy = compileCelPolicy(
      policyText('guarded', { variables: [['a', 'context.calendar.businessHours'], ['b', 'diagnosis.hypotheses.size() > 0']], proposals: ['variables.a && variables.b'] }),
      'guarded.cel.yaml',
      engine,
    );
    const backend = createCelBackend([policy], {});
    expect(backend.propose({ diagnosis: diagnosis(), context: context({ calendar: { businessHours: false } }) })).toEqual([]);
    expect(counts.get('context.calendar.businessHours')).toBe(1);
    expect(counts.get('diagnosis.hypotheses.size() > 0')).toBeUndefined();
    expect(counts.get('variables.a && variables.b')).toBeUndefined();
    expect(backend.propose({ diagnosis: diagnosis(), context: context({ calendar: { businessHours: true } }) })).toHaveLength(1);
    expect(counts.get('variables.a && variables.b')).toBe(1);
  });

  it('a match comparing the action kind with a literal is not evaluated, and other kinds skip the policy', () => {
    const { engine, counts } = countingEngine(defaultCelEngine());
    const policy = compileCelPolicy(policyText('kinds', { match: 'action.kind == "restart"', verdicts: ['context.calendar.businessHours || false', 'action.kind == "restart" && true'] }), 'kinds.cel.yaml', engine);
    const backend = createCelBackend([policy], {});
    const input = { diagnosis: diagnosis(), context: context({ calendar: { businessHours: true } }) };
    expect(backend.judge({ ...input, action: action('scale') })).toEqual([]);
    expect(counts.get('context.calendar.businessHours || false')).toBeUndefined();
    expect(backend.judge({ ...input, action: action('restart') }).map((v) => v.effect)).toEqual(['allow', 'deny']);
    expect(counts.get('action.kind == "restart"')).toBeUndefined();
    expect(counts.get('context.calendar.businessHours || false')).toBe(1);
  });

  it('a field path (alone or compared with a string) is read, not evaluated, and gives what CEL gives', () => {
    const { engine, counts } = countingEngine(defaultCelEngine());
    const whens = ['context.calendar.changeFreeze', 'context.service.criticality == "critical"', 'data.flags.missing', 'context.service.criticality == "critical" && context.calendar.changeFreeze'];
    const policy = compileCelPolicy(policyText('paths', { verdicts: whens }), 'paths.cel.yaml', engine);
    const backend = createCelBackend([policy], {});
    const plain = plainBackend([compileCelPolicy(policyText('paths', { verdicts: whens }), 'paths.cel.yaml', defaultCelEngine())]);
    for (const changeFreeze of [false, true]) {
      for (const criticality of ['critical', 'low'] as const) {
        const input = { diagnosis: diagnosis({ signals: {} }), context: context({ calendar: { changeFreeze }, service: { criticality } }), action: action('scale') };
        expect(withoutMessages(backend.judge(input))).toEqual(withoutMessages(plain.judge(input)));
      }
    }
    for (const w of whens.slice(0, 2)) expect(counts.get(w)).toBeUndefined();
    // a missing key is CEL's error (failing closed) unless the rest of an && is false: CEL evaluates it
    expect(counts.get(whens[2]!)).toBe(4);
    expect(counts.get(whens[3]!)).toBe(2); // only for the two critical inputs, where its head held
  });

  it('a || after a guard keeps the whole expression evaluated', () => {
    const { engine, counts } = countingEngine(defaultCelEngine());
    const policy = compileCelPolicy(policyText('either', { verdicts: ['action.kind == "restart" && false || true'] }), 'either.cel.yaml', engine);
    const verdicts = createCelBackend([policy], {}).judge({ diagnosis: diagnosis(), context: context(), action: action('scale') });
    expect(verdicts).toHaveLength(1);
    expect(counts.get('action.kind == "restart" && false || true')).toBe(1);
  });
});

describe('canonical JSON and sha256 keep their output', () => {
  // the reference: JSON.stringify for scalars, keys sorted by code unit (Array#sort's default order)
  const sortedStringify = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : sortedStringify(x))).join(',')}]`;
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const members = Object.keys(o).sort().filter((k) => o[k] !== undefined);
      return `{${members.map((k) => `${JSON.stringify(k)}:${sortedStringify(o[k])}`).join(',')}}`;
    }
    return JSON.stringify(v);
  };
  const anyUnit = fc.nat(0xffff).map((c) => String.fromCharCode(c));

  it('equals JSON.stringify with keys sorted by code unit, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(v)).toBe(sortedStringify(v));
      }),
      { numRuns: 500 },
    );
  });

  it('sorts keys by UTF-16 code unit: integer-like, non-ASCII, escaped, and more than 16 of them', () => {
    const keys = fc.array(fc.string({ unit: anyUnit, maxLength: 4 }), { maxLength: 40 });
    fc.assert(
      fc.property(keys, (ks) => {
        const obj = Object.fromEntries(ks.map((k, i) => [k, i]));
        expect(canonicalJson(obj)).toBe(sortedStringify(obj));
      }),
    );
  });

  it('sha256Hex is the hex sha256 of the UTF-8 text', () => {
    fc.assert(
      fc.property(fc.string({ unit: anyUnit }), (s) => {
        expect(sha256Hex(s)).toBe(createHash('sha256').update(s).digest('hex'));
      }),
    );
  });
});

describe('formatCost groups thousands as the regex did', () => {
  const byRegex = (x: number): string => {
    const n = Math.round(x);
    const digits = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return n < 0 ? `-${digits}` : digits;
  };

  it('any double, including huge, negative and non-finite ones', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer({ min: -1e9, max: 1e9 }), fc.constantFrom(0, -0.4, 999.5, 1000, 1e21, -3e25)), (x) => {
        expect(formatCost(x)).toBe(byRegex(x));
      }),
      { numRuns: 2000 },
    );
  });
});
