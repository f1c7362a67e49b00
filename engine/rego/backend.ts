// The Rego policy backend (DESIGN §4.2): a bundle's non-test modules are compiled once; every phase evaluates the
// packages under `data.arbiter.policies` in one query and turns their `proposals` / `verdicts` into Proposals and
// Verdicts, each carrying the file:row of the rule that produced it (for `decide --explain`).
import { z } from 'zod';
import { PolicyName } from '../cel/policy.ts';
import { BundleError, InputError } from '../errors.ts';
import {
  ActionKind,
  ActionKinds,
  ActionParams,
  Effects,
  type Action,
  UNKNOWN_COST,
  UNKNOWN_PRIORITY,
  errorVerdict,
  type PolicyBackend,
  type PolicyError,
  type PolicyInput,
  type Proposal,
  type SourceLocation,
  type Verdict,
} from '../types.ts';
import { BUILTIN_LIMITS, RObject, RSet, RegoError, compileModules, evalQuery, fromJSON, keyOf, toJSON } from './index.ts';
import type { Compiled, CompiledRule, Location, RuleNode, Value } from './index.ts';
import { POLICY_INPUT_JSON_SCHEMA } from './input-schema.ts';

/**
 * What the Rego backend reads of a bundle (an `engine/bundle.ts` Bundle has all of it; declared here so that the
 * backend does not import the bundle loader that loads it).
 */
export interface RegoBundle {
  dir: string;
  regoModules: Array<{ file: string; source: string }>;
  data: Record<string, unknown>;
  celPolicies: ReadonlyArray<{ name: string; file: string }>;
  wasm?: { file: string; bytes: Uint8Array };
}

/** Evaluation bounds for one phase: a policy that loops is stopped, not the process. */
export const POLICY_LIMITS = { maxSteps: 500_000, maxDepth: 200, timeoutMs: 250 } as const;

/** Inputs deeper or larger than this are refused before evaluation. */
export const MAX_INPUT_DEPTH = 32;
export const MAX_INPUT_NODES = 100_000;

const POLICIES_PATH = ['arbiter', 'policies'] as const;

export const RegoProposal = z
  .object({ kind: ActionKind, params: ActionParams.optional(), reason: z.string().max(1024).optional() })
  .strict();

export const RegoVerdict = z
  .object({
    effect: z.enum(Effects),
    priority: z.number().finite().optional(),
    weight: z.number().finite().min(0).optional(),
    cost: z.number().finite().optional(),
    reason: z.string().max(1024),
  })
  .strict();

/** One `package arbiter.policies.<name>` of a bundle. */
export interface RegoPolicy {
  name: string;
  /** Files that contribute rules to the package (for error messages). */
  files: string[];
  hasProposals: boolean;
  hasVerdicts: boolean;
  /**
   * Action kinds every `verdicts` rule is guarded by (`input.action.kind == "restart"` in its body), or null when some
   * rule is unguarded. Like OPA's rule index: packages that cannot judge a candidate are not evaluated for it.
   */
  judgesKinds: ReadonlySet<string> | null;
  /**
   * The escalate verdict's numbers when the package fails as a whole (its rules are evaluated together): the highest
   * priority, the summed weight and the summed positive cost its `verdicts` rules write as literals; UNKNOWN_PRIORITY /
   * UNKNOWN_COST where a rule computes them.
   */
  failure: { priority: number; weight: number; cost: number };
}

// ── compiling ───────────────────────────────────────────────────────────────────────────────────

/** Compiles the bundle's non-test modules; compile errors become BundleErrors at file:row:col. */
export function compileBundleModules(bundle: Pick<RegoBundle, 'regoModules'>, withTests = false): Compiled {
  const modules = bundle.regoModules.filter((m) => withTests || !m.file.endsWith('_test.rego'));
  try {
    // the decision backend always knows the input's schema: refs into `input` are type-checked against it; tests
    // (`opa test` has no schema either) may mock any input with `with input as`
    return compileModules(modules, withTests ? {} : { inputSchema: POLICY_INPUT_JSON_SCHEMA });
  } catch (err) {
    throw asBundleError(err);
  }
}

export function asBundleError(err: unknown, policy?: string): Error {
  if (!(err instanceof RegoError)) return err as Error;
  const where = err.location ? `${err.location.file}:${err.location.row}:${err.location.col}` : undefined;
  return new BundleError(`${policy ? `policy ${policy}: ` : ''}${err.code}: ${err.detail}`, where);
}

function filesBelow(node: RuleNode, out = new Set<string>()): Set<string> {
  for (const r of node.rules) out.add(r.loc.file);
  for (const c of node.children.values()) filesBelow(c, out);
  return out;
}

function isInputActionKind(t: unknown): boolean {
  const ref = t as { type?: string; head?: { type?: string; name?: string }; path?: Array<{ type?: string; value?: unknown }> };
  return (
    ref.type === 'ref' &&
    ref.head?.type === 'var' &&
    ref.head.name === 'input' &&
    ref.path?.length === 2 &&
    ref.path[0]?.value === 'action' &&
    ref.path[1]?.value === 'kind'
  );
}

/** The kinds one rule body is guarded by (`input.action.kind == "x"` or `input.action.kind in {...}`), or null. */
function guardedKinds(rule: CompiledRule): Set<string> | null {
  if (rule.elses.length > 0 || rule.isDefault) return null;
  for (const e of rule.body) {
    if (e.kind !== 'term' || e.negated || e.withs.length > 0 || e.term.type !== 'call') continue;
    const [a, b] = e.term.args;
    if (e.term.op === 'equal' && a && b) {
      const lit = isInputActionKind(a) ? b : isInputActionKind(b) ? a : undefined;
      if (lit?.type === 'scalar' && typeof lit.value === 'string') return new Set([lit.value]);
    }
    if (e.term.op === 'internal.member_2' && a && b && isInputActionKind(a) && (b.type === 'set' || b.type === 'array')) {
      const kinds = b.items.map((i) => (i.type === 'scalar' && typeof i.value === 'string' ? i.value : null));
      if (kinds.every((k) => k !== null)) return new Set(kinds as string[]);
    }
  }
  return null;
}

/** A literal number field of a rule's head object: the number, `absent`, or `computed` (not a literal). */
function literalField(rule: CompiledRule, field: string): number | 'absent' | 'computed' {
  const t = rule.suffix.length === 1 && rule.multi ? rule.suffix[0] : rule.value;
  if (!t || t.type !== 'object' || rule.elses.length > 0) return 'computed';
  const item = t.items.find(([k]) => k.type === 'scalar' && k.value === field);
  if (!item) return 'absent';
  const v = item[1];
  return v.type === 'scalar' && typeof v.value === 'number' && Number.isFinite(v.value) ? v.value : 'computed';
}

/** What an escalate verdict standing for a whole failed package carries (see RegoPolicy.failure). */
function failureOf(node: RuleNode | undefined): RegoPolicy['failure'] {
  const rules = node?.rules ?? [];
  if (!node || node.children.size > 0 || rules.length === 0) return { priority: UNKNOWN_PRIORITY, weight: UNKNOWN_PRIORITY, cost: UNKNOWN_COST };
  let priority = -Infinity;
  let weight = 0;
  let cost = 0;
  for (const r of rules) {
    const p = literalField(r, 'priority');
    const w = literalField(r, 'weight');
    const c = literalField(r, 'cost');
    priority = Math.max(priority, p === 'computed' ? UNKNOWN_PRIORITY : p === 'absent' ? 0 : p);
    weight = w === 'computed' || weight === UNKNOWN_PRIORITY ? UNKNOWN_PRIORITY : weight + (w === 'absent' ? 1 : Math.max(0, w));
    cost = c === 'computed' || cost === UNKNOWN_COST ? UNKNOWN_COST : cost + (c === 'absent' ? 0 : Math.max(0, c));
  }
  return { priority, weight, cost };
}

function verdictIndex(node: RuleNode | undefined): Set<string> | null {
  if (!node || node.children.size > 0 || node.rules.length === 0) return null;
  const all = new Set<string>();
  for (const r of node.rules) {
    const kinds = guardedKinds(r);
    if (!kinds) return null;
    for (const k of kinds) all.add(k);
  }
  return all;
}

/** The policies of a compiled bundle: the packages directly under `data.arbiter.policies`. */
export function regoPolicies(compiled: Compiled): RegoPolicy[] {
  let node: RuleNode | undefined = compiled.root;
  for (const seg of POLICIES_PATH) node = node?.children.get(seg);
  if (!node) return [];
  const out: RegoPolicy[] = [];
  for (const [name, pkg] of [...node.children.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const files = [...filesBelow(pkg)].sort();
    if (!PolicyName.safeParse(name).success) {
      throw new BundleError(`package arbiter.policies.${name}: policy names must match ^[a-z][a-z0-9_-]{0,62}$`, files[0]);
    }
    const proposals = pkg.children.get('proposals');
    const verdicts = pkg.children.get('verdicts');
    out.push({
      name,
      files,
      hasProposals: !!proposals?.hasRules,
      hasVerdicts: !!verdicts?.hasRules,
      judgesKinds: verdictIndex(verdicts),
      failure: failureOf(verdicts),
    });
  }
  return out;
}

// ── evaluating ──────────────────────────────────────────────────────────────────────────────────

/** Refuses inputs a policy should never see: deeper than MAX_INPUT_DEPTH or with more than MAX_INPUT_NODES values. */
export function checkInputBounds(x: unknown, where: string): void {
  let nodes = 0;
  const walk = (v: unknown, depth: number): void => {
    if (++nodes > MAX_INPUT_NODES) throw new InputError(`more than ${MAX_INPUT_NODES} values: too large for policy evaluation`, where);
    if (depth > MAX_INPUT_DEPTH) throw new InputError(`nested deeper than ${MAX_INPUT_DEPTH} levels: too deep for policy evaluation`, where);
    if (v && typeof v === 'object') for (const c of Array.isArray(v) ? v : Object.values(v)) walk(c, depth + 1);
  };
  walk(x, 0);
}

const policyRef = (name: string, field: 'proposals' | 'verdicts'): string => `data.arbiter.policies[${JSON.stringify(name)}].${field}`;

/** One query for several packages: each comprehension is `[]` when the package's field is undefined. */
function phaseQuery(policies: readonly RegoPolicy[], field: 'proposals' | 'verdicts'): string {
  return `__phase__ = [${policies.map((p) => `[x | x := ${policyRef(p.name, field)}]`).join(', ')}]`;
}

/** A policy's failure while deciding: reported to `errors` and, for the caller, thrown to end that policy's phase. */
export class PolicyEvaluationError extends Error {
  constructor(
    message: string,
    readonly source?: SourceLocation,
  ) {
    super(message);
    this.name = 'PolicyEvaluationError';
  }
}

/** The members of a package's `proposals`/`verdicts`: a set or an array; anything else fails the policy. */
function membersOf(v: Value, field: string): readonly Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return v.sorted();
  throw new PolicyEvaluationError(`${field} must be a set or an array of objects`);
}

function shapeMessage(field: string, member: unknown, issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${field} member ${JSON.stringify(member)}: ${path}${issue.message}`;
}

function policyError(policy: RegoPolicy, phase: PolicyError['phase'], message: string, source?: SourceLocation): PolicyError {
  const e: PolicyError = { policy: policy.name, phase, message };
  const at = source ?? (policy.files[0] ? { file: policy.files[0] } : undefined);
  if (at) e.source = at;
  if (source?.rule) e.rule = source.rule;
  return e;
}

/** The escalate verdict of a whole package that failed. */
export function failedPolicyVerdict(policy: RegoPolicy, message: string, source?: SourceLocation): Verdict {
  const args: Parameters<typeof errorVerdict>[0] = { policy: policy.name, ...policy.failure, message };
  if (source) args.source = source;
  return errorVerdict(args);
}

// Fast checks for the common, well-formed case (the decision hot path); anything they do not accept goes through zod,
// which either accepts it too or produces the error message. They accept a subset of what the schemas accept.
const EFFECT_SET: ReadonlySet<unknown> = new Set(Effects);
const KIND_SET: ReadonlySet<unknown> = new Set(ActionKinds);
const PARAM_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const isPlainObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
const optionalFinite = (x: unknown): boolean => x === undefined || (typeof x === 'number' && Number.isFinite(x));
const shortString = (x: unknown): x is string => typeof x === 'string' && x.length <= 1024;

export function isWellFormedVerdict(x: unknown): x is z.infer<typeof RegoVerdict> {
  if (!isPlainObject(x)) return false;
  for (const k in x) if (k !== 'effect' && k !== 'priority' && k !== 'weight' && k !== 'cost' && k !== 'reason') return false;
  return EFFECT_SET.has(x.effect) && shortString(x.reason) && optionalFinite(x.priority) && optionalFinite(x.cost) && optionalFinite(x.weight) && (x.weight === undefined || (x.weight as number) >= 0);
}

export function isWellFormedProposal(x: unknown): x is z.infer<typeof RegoProposal> {
  if (!isPlainObject(x)) return false;
  for (const k in x) if (k !== 'kind' && k !== 'params' && k !== 'reason') return false;
  if (!KIND_SET.has(x.kind) || (x.reason !== undefined && !shortString(x.reason))) return false;
  if (x.params === undefined) return true;
  if (!isPlainObject(x.params)) return false;
  for (const [k, v] of Object.entries(x.params)) {
    if (!PARAM_NAME.test(k)) return false;
    if (!(v === null || typeof v === 'boolean' || shortString(v) || (typeof v === 'number' && Number.isFinite(v)))) return false;
  }
  return true;
}

/** Proposals of one package from its evaluated members (plain JSON), sources by member; a malformed one is left out. */
export function toProposals(policy: RegoPolicy, members: Array<{ value: unknown; source?: SourceLocation }>, errors?: PolicyError[]): Proposal[] {
  const out: Proposal[] = [];
  for (const { value, source } of members) {
    let data: z.infer<typeof RegoProposal>;
    if (isWellFormedProposal(value)) data = value;
    else {
      const r = RegoProposal.safeParse(value);
      if (!r.success) {
        errors?.push(policyError(policy, 'propose', shapeMessage('proposals', value, r.error.issues[0]!), source));
        continue;
      }
      data = r.data;
    }
    const p: Proposal = { policy: policy.name, kind: data.kind, params: data.params ?? {} };
    if (data.reason) p.reason = data.reason;
    if (source) p.source = source;
    out.push(p);
  }
  return out;
}

const finiteOr = (x: unknown, fallback: number, min = -Infinity): number => (typeof x === 'number' && Number.isFinite(x) && x >= min ? x : fallback);

/**
 * Verdicts of one package, with DESIGN's defaults: priority 0, weight 1, cost 0. A malformed member fails closed: an
 * escalate verdict at the priority and weight it states (the package's when it states none usable) and its cost.
 */
export function toVerdicts(policy: RegoPolicy, members: Array<{ value: unknown; source?: SourceLocation }>, errors?: PolicyError[]): Verdict[] {
  return members.map(({ value, source }) => {
    let data: z.infer<typeof RegoVerdict>;
    if (isWellFormedVerdict(value)) data = value;
    else {
      const r = RegoVerdict.safeParse(value);
      if (!r.success) {
        const e = policyError(policy, 'judge', shapeMessage('verdicts', value, r.error.issues[0]!), source);
        errors?.push(e);
        const m = isPlainObject(value) ? value : {};
        const args: Parameters<typeof errorVerdict>[0] = {
          policy: policy.name,
          priority: m.priority === undefined ? 0 : finiteOr(m.priority, policy.failure.priority),
          weight: m.weight === undefined ? 1 : finiteOr(m.weight, policy.failure.weight, 0),
          cost: m.cost === undefined ? 0 : Math.max(0, finiteOr(m.cost, UNKNOWN_COST)),
          message: e.message,
        };
        if (source) args.source = source;
        return errorVerdict(args);
      }
      data = r.data;
    }
    const v: Verdict = { policy: policy.name, effect: data.effect, priority: data.priority ?? 0, weight: data.weight ?? 1, cost: data.cost ?? 0, reason: data.reason };
    if (source) v.source = source;
    return v;
  });
}

export interface RegoBackendOptions {
  limits?: Partial<{ maxSteps: number; maxDepth: number; timeoutMs: number }>;
}

/** The interpreter backend over an already compiled bundle. */
export function createInterpreterBackend(bundle: Pick<RegoBundle, 'regoModules' | 'data' | 'celPolicies'>, options: RegoBackendOptions = {}): PolicyBackend {
  const compiled = compileBundleModules(bundle);
  const policies = regoPolicies(compiled);
  for (const cel of bundle.celPolicies) {
    const clash = policies.find((p) => p.name === cel.name);
    if (clash) throw new BundleError(`policy name "${cel.name}" is used by both ${cel.file} and ${clash.files.join(', ')}`, clash.files[0]);
  }
  const byFile = new Map<string, RegoPolicy>();
  for (const p of policies) for (const f of p.files) byFile.set(f, p);
  const limits = { ...POLICY_LIMITS, ...options.limits };
  const data = fromJSON(bundle.data);

  interface Phase {
    field: 'proposals' | 'verdicts';
    query: string;
    policies: RegoPolicy[];
    /** Rule names whose values are the phase's members (`data.arbiter.policies.<name>.<field>`), for the tracer. */
    rules: ReadonlySet<string>;
  }
  const phaseOf = (field: Phase['field'], phasePolicies: RegoPolicy[]): Phase => ({
    field,
    query: phaseQuery(phasePolicies, field),
    policies: phasePolicies,
    rules: new Set(phasePolicies.map((p) => `data.arbiter.policies.${p.name}.${field}`)),
  });
  const proposePhase = phaseOf('proposals', policies.filter((p) => p.hasProposals));
  const judgePhases = new Map<string, Phase>();
  const judgePhaseFor = (kind: string): Phase => {
    let phase = judgePhases.get(kind);
    if (!phase) {
      phase = phaseOf('verdicts', policies.filter((p) => p.hasVerdicts && (p.judgesKinds === null || p.judgesKinds.has(kind))));
      judgePhases.set(kind, phase);
    }
    return phase;
  };

  // the diagnosis and context are the same objects for a decision's propose and judge calls: convert them once
  const converted = new WeakMap<object, Value>();
  const valueOf = (x: object, where: string): Value => {
    let v = converted.get(x);
    if (v === undefined) {
      checkInputBounds(x, where);
      converted.set(x, (v = fromJSON(x)));
    }
    return v;
  };
  let lastNow = '';
  let lastNowNs = 0n;
  const nowNsOf = (now: string): bigint => {
    if (now !== lastNow) {
      const ms = Date.parse(now);
      lastNow = now;
      lastNowNs = Number.isFinite(ms) ? BigInt(ms) * 1_000_000n : 0n;
    }
    return lastNowNs;
  };

  type Outcome = { policy: RegoPolicy; members: Array<{ value: unknown; source?: SourceLocation }> } | { policy: RegoPolicy; failure: PolicyEvaluationError };

  // a phase for one package alone: after a phase's query failed, each package runs alone to find the failing ones
  const alone = new Map<string, Phase>();
  const aloneOf = (field: Phase['field'], policy: RegoPolicy): Phase => {
    const key = `${field} ${policy.name}`;
    let phase = alone.get(key);
    if (!phase) alone.set(key, (phase = phaseOf(field, [policy])));
    return phase;
  };

  // any error but refused input fails the policy (a stack overflow in a builtin is the policy's problem too)
  const isPolicyFailure = (err: unknown): err is Error => err instanceof Error && !(err instanceof InputError);
  const failureOfError = (err: Error): PolicyEvaluationError => {
    if (!(err instanceof RegoError)) return new PolicyEvaluationError(`evaluation failed: ${err.message}`);
    const bounds = `${limits.maxSteps} steps, depth ${limits.maxDepth}, builtin output ${BUILTIN_LIMITS.maxStringLength} characters / ${BUILTIN_LIMITS.maxElements} elements, ${limits.timeoutMs} ms`;
    const bounded = err.code === 'eval_cancel_error' ? ` (limits: ${bounds}; does a rule loop?)` : '';
    const source = err.location ? { file: err.location.file, row: err.location.row, col: err.location.col } : undefined;
    return new PolicyEvaluationError(`${err.code}: ${err.detail}${bounded}`, source);
  };

  const inputOf = (input: PolicyInput): RObject => {
    const doc = new RObject();
    doc.set('diagnosis', valueOf(input.diagnosis, 'input.diagnosis'));
    doc.set('context', valueOf(input.context, 'input.context'));
    if (input.action) {
      checkInputBounds(input.action, 'input.action');
      doc.set('action', fromJSON(input.action));
    }
    return doc;
  };

  /** Each package's members, or its failure (DESIGN §4.8: one failing package does not take the others with it). */
  const run = (phase: Phase, input: PolicyInput): Outcome[] => {
    if (phase.policies.length === 0) return [];
    const doc = inputOf(input);
    try {
      return evaluatePhase(phase, doc, input);
    } catch (err) {
      if (!isPolicyFailure(err)) throw err;
      if (phase.policies.length === 1) return [{ policy: phase.policies[0]!, failure: failureOfError(err) }];
      return phase.policies.flatMap((policy) => {
        try {
          return evaluatePhase(aloneOf(phase.field, policy), doc, input);
        } catch (e) {
          if (!isPolicyFailure(e)) throw e;
          return [{ policy, failure: failureOfError(e) }];
        }
      });
    }
  };

  const evaluatePhase = ({ field, query, policies: phase, rules: wanted }: Phase, doc: RObject, input: PolicyInput): Outcome[] => {
    const sources = new Map<string, Location & { rule: string }>();
    const tracer = (rule: { name: string; location: Location }, v: Value): void => {
      if (!wanted.has(rule.name)) return;
      const key = keyOf(v);
      const seen = sources.get(key);
      if (!seen || rule.location.row < seen.row) sources.set(key, { ...rule.location, rule: rule.name });
    };
    const results = evalQuery(compiled, query, { input: doc, data, nowNs: nowNsOf(input.context.now), limits, tracer });
    const per = results[0]?.bindings.get('__phase__');
    if (!Array.isArray(per)) return [];
    return phase.map((policy, i): Outcome => {
      const found = per[i] as Value[];
      if (!found || found.length === 0) return { policy, members: [] };
      let values: readonly Value[];
      try {
        values = membersOf(found[0] as Value, field);
      } catch (err) {
        return { policy, failure: err as PolicyEvaluationError };
      }
      const members = values.map((m) => {
        const at = sources.get(keyOf(m));
        const out: { value: unknown; source?: SourceLocation; order: number } = { value: toJSON(m), order: at?.row ?? Number.MAX_SAFE_INTEGER };
        if (at) out.source = { file: at.file, row: at.row, col: at.col, rule: at.rule };
        return out;
      });
      // rule order, as the CEL backend reports its rules (arrays keep their own order)
      if (!Array.isArray(found[0])) members.sort((a, b) => a.order - b.order);
      return { policy, members };
    });
  };

  return {
    name: 'rego',
    policies: policies.map((p) => p.name),
    propose(input: PolicyInput, errors?: PolicyError[]): Proposal[] {
      return run(proposePhase, input).flatMap((o) => {
        if ('members' in o) return toProposals(o.policy, o.members, errors);
        errors?.push(policyError(o.policy, 'propose', o.failure.message, o.failure.source));
        return [];
      });
    },
    judge(input: PolicyInput & { action: Action }, errors?: PolicyError[]): Verdict[] {
      return run(judgePhaseFor(input.action.kind), input).flatMap((o) => {
        if ('members' in o) return toVerdicts(o.policy, o.members, errors);
        errors?.push(policyError(o.policy, 'judge', o.failure.message, o.failure.source));
        return [failedPolicyVerdict(o.policy, o.failure.message, o.failure.source)];
      });
    },
  };
}

/** `engine/bundle.ts` calls this for bundles with Rego policies and no `policy.wasm` (that one goes to `wasm.ts`). */
export function createRegoBackend(bundle: RegoBundle): PolicyBackend {
  return createInterpreterBackend(bundle);
}
