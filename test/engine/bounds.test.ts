// Bounded evaluation (issue 10 item 3): hostile diagnoses against policies that are harmless on ordinary input.
// Every attack must produce a result (no test waits on a timer assertion: a backtracking regex would blow the
// generous vitest timeout instead), and a bound that is hit fails closed: an escalate verdict and an error naming the policy
// in the Decision (DESIGN §4.8), or, when a worker overruns, an escalate decision from the decision pool that says why.
import { cpSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle, type Bundle } from '../../engine/bundle.ts';
import { createBufbuildEngine } from '../../engine/cel/bufbuild.ts';
import { createMarcbachmannEngine } from '../../engine/cel/index.ts';
import { decide } from '../../engine/decide.ts';
import { DecisionPool } from '../../engine/pool.ts';
import '../../engine/rego/builtins/index.ts';
import { BUILTIN_LIMITS, lookupBuiltin, type BuiltinContext } from '../../engine/rego/builtins/registry.ts';
import { compileModules, evalQuery, RegoError } from '../../engine/rego/index.ts';
import type { Value } from '../../engine/rego/value.ts';
import type { Diagnosis } from '../../engine/types.ts';
import { tempDir } from '../support/git.ts';
import { context, diagnosis } from './fixtures.ts';

const EVIL = `${'a'.repeat(30)}!`; // ^(a+)+$ took 75 s on this with backtracking RegExp
const EVIL_LONG = `${'a'.repeat(100_000)}!`;
const CATASTROPHIC = '^(a+)+$';

const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0.5, print: () => {} };
const call = (name: string, ...args: Value[]): Value | undefined => lookupBuiltin(name)!.fn(args, ctx);

/** Evaluates `x := <expr>` (non-strict, as policies run) and returns x or the RegoError. */
function rego(expr: string, modules = ''): Value | RegoError {
  const compiled = compileModules([{ file: 'p.rego', source: `package p\n${modules}\n` }]);
  try {
    const r = evalQuery(compiled, `x := ${expr}`, { limits: { timeoutMs: 250 } });
    return r[0]?.bindings.get('x') as Value;
  } catch (err) {
    if (err instanceof RegoError) return err;
    throw err;
  }
}

describe('regular expressions run in linear time with RE2 semantics', () => {
  it.each([
    ['regex.match', '^(a+)+$ on 31 characters', [CATASTROPHIC, EVIL], false],
    ['regex.match', '^(a+)+$ on 100 001 characters', [CATASTROPHIC, EVIL_LONG], false],
    ['regex.match', '(a|aa)*$ on 5000 characters', ['(a|aa)*$', EVIL_LONG.slice(0, 5000)], true],
    ['regex.match', '^(a|a?)+$', ['^(a|a?)+$', EVIL], false],
    ['regex.match', '^(\\w+\\s?)*$ on words and a bang', ['^(\\w+\\s?)*$', `${'word '.repeat(20)}!`], false],
    ['regex.find_n', '^(a+)+$', [CATASTROPHIC, EVIL, -1], []],
    ['regex.find_all_string_submatch_n', '(a+)+b', ['(a+)+b', EVIL, -1], []],
    ['regex.split', '(a+)+b', ['(a+)+b', EVIL], [EVIL]],
    ['regex.replace', '(a+)+b', [EVIL, '(a+)+b', 'x'], EVIL],
    ['regex.template_match', '{(a+)+}$', ['{(a+)+}$', EVIL, '{', '}'], false],
  ] as Array<[string, string, Value[], Value]>)('%s with %s answers', (name, _label, args, want) => {
    expect(call(name, ...args)).toEqual(want);
  }, 20_000);

  it('keeps Go’s error wording for bad patterns', () => {
    expect(() => call('regex.match', '[a', 'x')).toThrow('regex.match: error parsing regexp: missing closing ]: `[a`');
    expect(() => call('regex.match', '(a)\\1', 'x')).toThrow('error parsing regexp: invalid escape sequence: `\\1`');
    expect(() => call('regex.match', 'a**', 'x')).toThrow('error parsing regexp: invalid nested repetition operator: `**`');
  });

  it('glob.match on nested stars is linear too', () => {
    expect(call('glob.match', '*a*a*a*a*a*a*a*a*a*a*b', [], 'a'.repeat(50_000))).toBe(false);
    expect(call('glob.match', '**a**a**a**a**a**b', ['.'], 'a.'.repeat(20_000))).toBe(false);
    expect(call('glob.match', '{a,aa,aaa}*{a,aa}*b', null, 'a'.repeat(20_000))).toBe(false);
    expect(call('glob.match', '*a*a*b', [], 'xaxab')).toBe(true);
  }, 20_000);

  it('a pattern anchored at ^ never matches at a later search position (Go iteration rules)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ab]{0,12}$/), (s) => {
        const found = call('regex.find_n', '^a', s, -1) as string[];
        return found.length === (s.startsWith('a') ? 1 : 0);
      }),
    );
  });
});

describe('CEL matches() runs on RE2 in both adapters', () => {
  for (const engine of [createMarcbachmannEngine(), createBufbuildEngine()]) {
    it(`${engine.name}: a catastrophic pattern on hostile text answers`, () => {
      const p = engine.compile('s.matches("^(a+)+$")', [{ name: 's', type: 'string' }]);
      expect(p.evaluate({ s: EVIL })).toBe(false);
      expect(p.evaluate({ s: 'a'.repeat(64) })).toBe(true);
      const dyn = engine.compile('d.matches("(x+x+)+y")', [{ name: 'd', type: 'dyn' }]);
      expect(dyn.evaluate({ d: 'x'.repeat(5000) })).toBe(false);
    }, 20_000);
  }

  it('@marcbachmann/cel-js reports a bad pattern as an evaluation error naming matches', () => {
    const p = createMarcbachmannEngine().compile('s.matches("[a")', [{ name: 's', type: 'string' }]);
    expect(() => p.evaluate({ s: 'a' })).toThrow(/missing closing \]/);
  });
});

describe('builtins cap their output: a bound halts the evaluation (never undefined)', () => {
  const halted = (r: Value | RegoError): string => {
    expect(r).toBeInstanceOf(RegoError);
    expect((r as RegoError).code).toBe('eval_cancel_error');
    return (r as RegoError).message;
  };
  it('sprintf refuses widths above 1e6 as Go does instead of allocating them', () => {
    expect(rego('sprintf("%0500000000d", [1])')).toBe('%!(NOVERB)%!(EXTRA int=1)');
    expect(rego('sprintf("%.900000000f", [1])')).toBe('%!(NOVERB)%!(EXTRA int=1)');
    expect(rego('count(sprintf("%05d", [1]))')).toBe(5);
  });
  it('numbers.range and numbers.range_step above a million elements', () => {
    expect(halted(rego('numbers.range(1, 1e9)'))).toMatch(/numbers.range: result has more than 1000000 elements/);
    expect(halted(rego('numbers.range_step(0, 1e12, 7)'))).toMatch(/numbers.range_step/);
    expect(rego('count(numbers.range(1, 1000))')).toBe(1000);
  });
  it('string doubling through concat stops at 1 MiB', () => {
    const chain = Array.from({ length: 25 }, (_, i) => `s${i + 1} := concat("", [s${i}, s${i}])`).join('\n');
    expect(halted(rego('count(data.p.s25)', `s0 := "ab"\n${chain}`))).toMatch(/concat: result longer than 1048576 characters/);
  });
  it('array doubling through array.concat stops at a million elements', () => {
    const chain = Array.from({ length: 25 }, (_, i) => `a${i + 1} := array.concat(a${i}, a${i})`).join('\n');
    expect(halted(rego('count(data.p.a25)', `a0 := [1, 2]\n${chain}`))).toMatch(/array.concat: result has more than 1000000 elements/);
  });
  it('replace with an empty needle multiplies the text: bounded before it is built', () => {
    expect(halted(rego(`replace("${'x'.repeat(2000)}", "", "${'y'.repeat(2000)}")`))).toMatch(/replace: result longer/);
    expect(rego('replace("abc", "", "-")')).toBe('-a-b-c-');
  });
  it('regex.replace output is bounded', () => {
    expect(halted(rego(`regex.replace("${'x'.repeat(4000)}", "", "${'y'.repeat(1000)}")`))).toMatch(/regex.replace: result longer/);
  });
  it('json.marshal and yaml.marshal of a large value stop at 1 MiB before serializing', () => {
    for (const f of ['json.marshal', 'yaml.marshal', 'json.marshal_with_options']) {
      const call = f === 'json.marshal_with_options' ? `${f}(numbers.range(1, 600000), {"pretty": true})` : `${f}(numbers.range(1, 600000))`;
      expect(halted(rego(`count(${call})`))).toMatch(new RegExp(`${f.replace('.', '\\.')}: result longer`));
    }
    expect(rego('json.marshal([1, "a"])')).toBe('[1,"a"]');
  }, 20_000);
  it('units.parse of an enormous exponent and bits.lsh by a billion are bounded numbers', () => {
    expect(halted(rego('units.parse("1e1000000000")'))).toMatch(/units.parse: number with more than 100000 digits/);
    expect(halted(rego('units.parse_bytes("1e1000000000")'))).toMatch(/units.parse_bytes: number with more than/);
    expect(halted(rego('bits.lsh(1, 1000000000)'))).toMatch(/bits.lsh: number with more than/);
    expect(rego('units.parse("1e3")')).toBe(1000);
  });
  it('the limits are the documented ones', () => {
    expect(BUILTIN_LIMITS).toEqual({ maxStringLength: 1_048_576, maxElements: 1_000_000, maxNumberDigits: 100_000 });
  });
});

// ── the shipped bundles with a hostile policy added ────────────────────────────────────────────────────────────

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const shipped = (name: string): string => fileURLToPath(new URL(`../../policies/${name}`, import.meta.url));

const REGO_HOSTILE = `# Harmless on ordinary evidence; hostile evidence makes it slow (backtracking) or huge (replace).
package arbiter.policies.hostile

verdicts contains {"effect": "deny", "priority": 100, "reason": "evidence looks like a catastrophic pattern"} if {
	input.action.kind == "restart"
	some h in input.diagnosis.hypotheses
	some e in h.evidence
	regex.match(\`^(a+)+$\`, e)
}

verdicts contains {"effect": "deny", "priority": 100, "reason": "an expanded evidence line is empty"} if {
	input.action.kind == "restart"
	some h in input.diagnosis.hypotheses
	some e in h.evidence
	startswith(e, "blow")
	count(replace(e, "", e)) == 0
}

verdicts contains {"effect": "deny", "priority": 100, "reason": "a formatted evidence line is empty"} if {
	input.action.kind == "restart"
	some h in input.diagnosis.hypotheses
	some e in h.evidence
	count(sprintf("%0500000000d", [count(e)])) == 0
}
`;

const CEL_HOSTILE = `apiVersion: arbiter.dev/v1
kind: CelPolicy
metadata:
  name: hostile
  description: Harmless on ordinary evidence; hostile evidence makes matches() backtrack.
spec:
  priority: 100
  match: action.kind == "restart"
  verdicts:
    - when: diagnosis.hypotheses.exists(h, has(h.evidence) && h.evidence.exists(e, e.matches("^(a+)+$")))
      effect: deny
      reason: evidence looks like a catastrophic pattern
`;

/** A runaway no in-evaluation bound catches: two nested macros over every word of the evidence. */
const CEL_RUNAWAY = `apiVersion: arbiter.dev/v1
kind: CelPolicy
metadata:
  name: runaway
  description: Quadratic in the number of evidence words.
spec:
  priority: 100
  match: action.kind == "restart"
  variables:
    - name: words
      expression: >-
        diagnosis.hypotheses.map(h, has(h.evidence) ? h.evidence.join(" ") : "").join(" ").split(" ")
  verdicts:
    - when: variables.words.exists(a, variables.words.exists(b, a + b == "nevermore"))
      effect: deny
      reason: two words make "nevermore"
`;

export function hostileBundle(edition: 'remediation' | 'remediation-rego', file: string, text: string): string {
  const dir = `${tmp.path}/${edition}-${file}`;
  cpSync(shipped(edition), dir, { recursive: true, dereference: true });
  writeFileSync(`${dir}/${file}`, text);
  return dir;
}

const withEvidence = (...evidence: string[]): Diagnosis => diagnosis({ hypotheses: [{ cause: 'memory-leak', confidence: 0.9, evidence }] });
const decideWith = (bundle: Bundle, d: Diagnosis) => decide({ diagnosis: d, context: context(), bundle });

describe('a hostile diagnosis against the shipped bundles plus a hostile policy', () => {
  for (const [edition, file, text] of [
    ['remediation-rego', 'hostile.rego', REGO_HOSTILE],
    ['remediation', 'hostile.cel.yaml', CEL_HOSTILE],
  ] as const) {
    it(`${edition}: catastrophic-pattern evidence is decided as without the hostile policy (no match)`, async () => {
      const bundle = await loadBundle(hostileBundle(edition, file, text));
      const evidence = withEvidence(EVIL, EVIL_LONG.slice(-2000));
      const d = decideWith(bundle, evidence);
      const baseline = decideWith(await loadBundle(shipped(edition)), evidence);
      expect(d.mode).toBe(baseline.mode);
      expect(d.action).toEqual(baseline.action);
      expect(JSON.stringify(d)).not.toContain('catastrophic pattern');
    }, 30_000);

    it(`${edition}: evidence the pattern matches is denied, so the restart is not automatic`, async () => {
      const bundle = await loadBundle(hostileBundle(edition, file, text));
      const d = decideWith(bundle, withEvidence('a'.repeat(2000)));
      expect(d.mode).toBe('escalate');
      expect(JSON.stringify(d)).toContain('catastrophic pattern');
    }, 30_000);
  }

  it('remediation-rego: an output bound hit inside a deny rule escalates with an error naming the policy, not "the rule does not hold"', async () => {
    const bundle = await loadBundle(hostileBundle('remediation-rego', 'hostile.rego', REGO_HOSTILE));
    // DESIGN §4.8: the failed judgement is an escalate verdict at the rule's priority, listed in errors[]
    const d = decideWith(bundle, withEvidence(`blow${'x'.repeat(2000)}`));
    expect(d.mode).toBe('escalate');
    expect(d.errors?.map((e) => e.policy)).toContain('hostile');
    expect(d.errors?.find((e) => e.policy === 'hostile')?.message).toMatch(/^eval_cancel_error: replace: result longer than 1048576 characters/);
  });
});

describe('the decision pool fails closed and replaces a runaway worker', () => {
  it('remediation-rego: a bound hit in a worker becomes an escalate decision that says why', async () => {
    const dir = hostileBundle('remediation-rego', 'hostile.rego', REGO_HOSTILE);
    const pool = new DecisionPool({ bundleDir: dir, bundle: await loadBundle(dir), timeoutMs: 20_000 });
    try {
      const d = await pool.decide({ diagnosis: withEvidence(`blow${'x'.repeat(2000)}`), context: context() });
      expect(d.mode).toBe('escalate');
      expect(d.rationale.join('\n')).toMatch(/policy error.* while deciding \(hostile .*replace: result longer.*failing closed/);
      const ok = await pool.decide({ diagnosis: withEvidence(EVIL), context: context() });
      expect(ok.mode).toBe('auto');
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('remediation (CEL): a runaway evaluation is terminated, escalates, and the next decision runs on a new worker', async () => {
    const dir = hostileBundle('remediation', 'runaway.cel.yaml', CEL_RUNAWAY);
    const pool = new DecisionPool({ bundleDir: dir, bundle: await loadBundle(dir), timeoutMs: 1_500 });
    try {
      const words = Array.from({ length: 100 }, () => 'w '.repeat(1000).trim());
      const d = await pool.decide({ diagnosis: withEvidence(...words), context: context() });
      expect(d.mode).toBe('escalate');
      expect(d.rationale.join('\n')).toMatch(/fails closed: policy evaluation overran its time budget: no answer within 1500 ms/);
      expect(pool.replaced).toBe(1);
      const ok = await pool.decide({ diagnosis: withEvidence('one small line'), context: context() });
      expect(ok.mode).toBe('auto');
      expect(ok.action?.kind).toBe('restart');
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('long-running builtins check the evaluation deadline', () => {
  it('strings.replace_n with a hostile number of patterns stops at the time budget instead of running on', () => {
    const patterns = `{${Array.from({ length: 20_000 }, (_, i) => `"p${i}q": "x"`).join(', ')}}`;
    const r = rego(`strings.replace_n(${patterns}, "${'z'.repeat(200_000)}")`);
    expect(r).toBeInstanceOf(RegoError);
    expect((r as RegoError).message).toMatch(/eval_cancel_error: strings.replace_n: evaluation exceeded its time budget/);
  }, 60_000);
});
