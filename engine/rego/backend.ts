// The Rego policy backend (DESIGN §4.2): a bundle's non-test modules are compiled once; every phase evaluates the
// packages under `data.arbiter.policies` in one query and turns their `proposals` / `verdicts` into Proposals and
// Verdicts, each carrying the file:row of the rule that produced it (for `decide --explain`).
import { z } from 'zod';
import { PolicyName } from '../cel/policy.ts';
import { BundleError, EvalBudgetError, InputError } from '../errors.ts';
import {
  ActionKind,
  ActionKinds,
  ActionParams,
  Effects,
  type Action,
  type PolicyBackend,
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

/** The members of a package's `proposals`/`verdicts`: a set or an array; anything else is a bundle error. */
function membersOf(v: Value, policy: RegoPolicy, field: string): readonly Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return v.sorted();
  throw new BundleError(`${field} must be a set or an array of objects`, `policy ${policy.name} (${policy.files.join(', ')})`);
}

function shapeError(policy: RegoPolicy, field: string, member: unknown, issue: z.core.$ZodIssue, source?: SourceLocation): BundleError {
  const path = issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
  const where = source ? `${source.file}:${source.row}` : policy.files.join(', ');
  return new BundleError(`${field} member ${JSON.stringify(member)}: ${path ? `${path.slice(1)}: ` : ''}${issue.message}`, `policy ${policy.name} (${where})`);
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

/** A member as its schema reads it: well-formed members skip zod (the hot path), others get its error naming the member. */
function memberShape<S extends z.ZodType>(
  policy: RegoPolicy,
  field: 'proposals' | 'verdicts',
  schema: S,
  wellFormed: (x: unknown) => x is z.output<S>,
  value: unknown,
  source: SourceLocation | undefined,
): z.output<S> {
  if (wellFormed(value)) return value;
  const r = schema.safeParse(value);
  if (!r.success) throw shapeError(policy, field, value, r.error.issues[0]!, source);
  return r.data;
}

/** Proposals of one package from its evaluated members (plain JSON), sources by member. */
export function toProposals(policy: RegoPolicy, members: Array<{ value: unknown; source?: SourceLocation }>): Proposal[] {
  return members.map(({ value, source }) => {
    const data = memberShape(policy, 'proposals', RegoProposal, isWellFormedProposal, value, source);
    const p: Proposal = { policy: policy.name, kind: data.kind, params: data.params ?? {} };
    if (data.reason) p.reason = data.reason;
    if (source) p.source = source;
    return p;
  });
}

/** Verdicts of one package, with DESIGN's defaults: priority 0, weight 1, cost 0. */
export function toVerdicts(policy: RegoPolicy, members: Array<{ value: unknown; source?: SourceLocation }>): Verdict[] {
  return members.map(({ value, source }) => {
    const data = memberShape(policy, 'verdicts', RegoVerdict, isWellFormedVerdict, value, source);
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

  const run = ({ field, query, policies: phase, rules: wanted }: Phase, input: PolicyInput): Array<{ policy: RegoPolicy; members: Array<{ value: unknown; source?: SourceLocation }> }> => {
    if (phase.length === 0) return [];
    const doc = new RObject();
    doc.set('diagnosis', valueOf(input.diagnosis, 'input.diagnosis'));
    doc.set('context', valueOf(input.context, 'input.context'));
    if (input.action) {
      checkInputBounds(input.action, 'input.action');
      doc.set('action', fromJSON(input.action));
    }
    const sources = new Map<string, Location & { rule: string }>();
    const tracer = (rule: { name: string; location: Location }, v: Value): void => {
      if (!wanted.has(rule.name)) return;
      const key = keyOf(v);
      const seen = sources.get(key);
      if (!seen || rule.location.row < seen.row) sources.set(key, { ...rule.location, rule: rule.name });
    };
    let results;
    try {
      results = evalQuery(compiled, query, { input: doc, data, nowNs: nowNsOf(input.context.now), limits, tracer });
    } catch (err) {
      if (!(err instanceof RegoError)) throw err;
      const policy = err.location ? byFile.get(err.location.file)?.name : undefined;
      if (err.code === 'eval_cancel_error') {
        const at = err.location ? ` at ${err.location.file}:${err.location.row}` : '';
        const bounds = `${limits.maxSteps} steps, depth ${limits.maxDepth}, builtin output ${BUILTIN_LIMITS.maxStringLength} characters / ${BUILTIN_LIMITS.maxElements} elements, ${limits.timeoutMs} ms`;
        throw new EvalBudgetError(`${err.code}: ${err.detail}${at} (limits: ${bounds}; does a rule loop?)`, policy ?? 'evaluation');
      }
      throw asBundleError(err, policy ?? 'evaluation');
    }
    const per = results[0]?.bindings.get('__phase__');
    if (!Array.isArray(per)) return [];
    return phase.map((policy, i) => {
      const found = per[i] as Value[];
      if (!found || found.length === 0) return { policy, members: [] };
      const members = membersOf(found[0] as Value, policy, field).map((m) => {
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
    propose(input: PolicyInput): Proposal[] {
      return run(proposePhase, input).flatMap(({ policy, members }) => toProposals(policy, members));
    },
    judge(input: PolicyInput & { action: Action }): Verdict[] {
      return run(judgePhaseFor(input.action.kind), input).flatMap(({ policy, members }) => toVerdicts(policy, members));
    },
  };
}

/** `engine/bundle.ts` calls this for bundles with Rego policies and no `policy.wasm` (that one goes to `wasm.ts`). */
export function createRegoBackend(bundle: RegoBundle): PolicyBackend {
  return createInterpreterBackend(bundle);
}
