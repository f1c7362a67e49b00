// CEL policies (`*.cel.yaml`, DESIGN §4.2): parsed, compiled once at bundle load, evaluated as a PolicyBackend.
import YAML, { LineCounter, isScalar, type Node } from 'yaml';
import { z } from 'zod';
import { BundleError } from '../errors.ts';
import { fieldPath } from '../ingest.ts';
import {
  ActionKind,
  ActionKinds,
  ActionParams,
  API_VERSION,
  Effects,
  type Action,
  type PolicyBackend,
  type PolicyInput,
  UNKNOWN_COST,
  errorVerdict,
  type PolicyError,
  type Proposal,
  type SourceLocation,
  type Verdict,
} from '../types.ts';
import { celDeclarations } from './declarations.ts';
import { CelCompileError, CelEvaluationError, celToPlain, type CelEngine, type CelProgram, type CelVariable } from './engine.ts';

/** Policy names become Rego packages `data.arbiter.policies.<name>`: snake_case is recommended. */
export const PolicyName = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'must be a policy name such as no_restart_in_business_hours');

const Expression = z.string().min(1).max(4096);

const ProposalRule = z
  .object({
    name: z.string().max(128).optional(),
    when: Expression.optional(),
    action: z
      .object({
        kind: ActionKind,
        params: ActionParams.optional(),
        /** Parameters computed by CEL, e.g. `{ value: "int(diagnosis.signals.poolSize * 1.2)" }`. */
        paramsExpr: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/), Expression).optional(),
      })
      .strict(),
    reason: z.string().max(1024).optional(),
    reasonExpr: Expression.optional(),
  })
  .strict();

const VerdictRule = z
  .object({
    name: z.string().max(128).optional(),
    when: Expression.optional(),
    effect: z.enum(Effects),
    priority: z.number().finite().optional(),
    weight: z.number().finite().min(0).optional(),
    cost: z.union([z.number().finite(), Expression]).optional(),
    reason: z.string().max(1024).optional(),
    reasonExpr: Expression.optional(),
  })
  .strict();

export const CelPolicyDocument = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('CelPolicy'),
    metadata: z.object({ name: PolicyName, description: z.string().max(2048).optional() }).strict(),
    spec: z
      .object({
        priority: z.number().finite().optional(),
        weight: z.number().finite().min(0).optional(),
        match: Expression.optional(),
        /** Named values computed before the rules, visible as `variables.<name>` (as in Kubernetes admission policies). */
        variables: z.array(z.object({ name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), expression: Expression }).strict()).max(32).optional(),
        proposals: z.array(ProposalRule).max(64).optional(),
        verdicts: z.array(VerdictRule).max(64).optional(),
      })
      .strict(),
  })
  .strict();
export type CelPolicyDocument = z.infer<typeof CelPolicyDocument>;

interface CompiledProposal {
  when?: CelProgram;
  kind: ActionKind;
  params: ActionParams;
  paramsExpr: Array<[string, CelProgram]>;
  reason?: string;
  reasonExpr?: CelProgram;
  source: SourceLocation;
}

interface CompiledVerdict {
  when?: CelProgram;
  effect: Verdict['effect'];
  priority: number;
  weight: number;
  cost: number | CelProgram;
  reason?: string;
  reasonExpr?: CelProgram;
  source: SourceLocation;
}

export interface CompiledCelPolicy {
  name: string;
  description?: string;
  file: string;
  match?: CelProgram;
  /** Where `match` is written, for errors. */
  matchSource?: { row?: number; col?: number };
  variables: Array<[string, CelProgram]>;
  proposals: CompiledProposal[];
  verdicts: CompiledVerdict[];
}


/** Parses and compiles one `*.cel.yaml` file; every error names the file, the rule and the line/column. */
export function compileCelPolicy(text: string, file: string, engine: CelEngine): CompiledCelPolicy {
  const r = checkCelPolicy(text, file, engine);
  if (!r.policy) throw r.errors[0]!;
  return r.policy;
}

/** The result of checking one CEL policy file: the compiled policy, or every error found (file:line:col each). */
export interface CelPolicyCheck {
  policy?: CompiledCelPolicy;
  errors: BundleError[];
  /** Strict-mode findings (`arbiter check --strict`): variables no expression reads. */
  unused: BundleError[];
}

/** Parses and compiles one `*.cel.yaml` file, collecting every error instead of stopping at the first. */
export function checkCelPolicy(text: string, file: string, engine: CelEngine): CelPolicyCheck {
  const errors: BundleError[] = [];
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = lineCounter.linePos(e.pos[0]);
      errors.push(new BundleError(`not valid YAML: ${e.message.split('\n')[0]}`, `${file}:${pos.line}:${pos.col}`));
    }
    return { errors, unused: [] };
  }
  const r = CelPolicyDocument.safeParse(doc.toJS({ maxAliasCount: 0 }));
  if (!r.success) {
    for (const issue of r.error.issues) {
      const where = locate(doc, lineCounter, issue.path as PropertyKey[], 0);
      errors.push(new BundleError(`${fieldPath(issue.path)}: ${issue.message}`, `${file}${where}`));
    }
    return { errors, unused: [] };
  }
  const policy = r.data;
  const spec = policy.spec;

  const declarations = celDeclarations();
  const PROPOSE_VARIABLES = declarations.propose;
  const JUDGE_VARIABLES = declarations.judge;
  const variableNames = new Set((spec.variables ?? []).map((v) => v.name));
  const compile = (path: PropertyKey[], rule: string, source: string, variables: CelVariable[], expect: 'bool' | 'number' | 'string' | 'any'): CelProgram => {
    // `variables` is a map to CEL; its names are checked here, so `variables.leek` is an error like `h.casue`
    const reads = variablesRead(source);
    if (reads !== 'all') {
      for (const name of reads) {
        if (variableNames.has(name)) continue;
        const at = source.search(new RegExp(`\\bvariables\\s*\\.\\s*${name}\\b`));
        errors.push(new BundleError(`${rule}: no variable named ${name} in spec.variables${at >= 0 ? ` (column ${at + 1} of the expression)` : ''}`, `${file}${locate(doc, lineCounter, path, Math.max(0, at))}`));
        return FAILED;
      }
    }
    let program: CelProgram;
    try {
      program = engine.compile(source, variables, declarations.types);
    } catch (err) {
      if (!(err instanceof CelCompileError)) throw err;
      const where = locate(doc, lineCounter, path, err.offset ?? 0);
      const unknownField = /^No such key: (.*)$/.exec(err.message);
      const message = /Unknown variable: action/.test(err.message)
        ? '`action` is only defined while judging (verdicts, match), not in proposals'
        : unknownField
          ? `unknown field ${unknownField[1]} (see \`arbiter schema\` for the fields of diagnosis, context and action)`
          : err.message;
      errors.push(new BundleError(`${rule}: ${message}${err.offset !== undefined ? ` (column ${err.offset + 1} of the expression)` : ''}`, `${file}${where}`));
      return FAILED;
    }
    const t = program.resultType;
    const ok = t === 'dyn' || expect === 'any' || (expect === 'bool' && t === 'bool') || (expect === 'number' && (t === 'int' || t === 'double' || t === 'uint')) || (expect === 'string' && t === 'string');
    if (!ok) errors.push(new BundleError(`${rule}: the expression has type ${t}, expected ${expect}`, `${file}${locate(doc, lineCounter, path, 0)}`));
    return program;
  };

  const name = policy.metadata.name;
  const proposalVars = [...PROPOSE_VARIABLES];
  const compiled: CompiledCelPolicy = {
    name,
    file,
    variables: (spec.variables ?? []).map((v, i) => [v.name, compile(['spec', 'variables', i, 'expression'], `variables[${i}] (${v.name})`, v.expression, JUDGE_VARIABLES, 'any')]),
    proposals: [],
    verdicts: [],
  };
  if (policy.metadata.description !== undefined) compiled.description = policy.metadata.description;
  if (spec.match !== undefined) {
    compiled.match = compile(['spec', 'match'], 'match', spec.match, JUDGE_VARIABLES, 'bool');
    compiled.matchSource = position(doc, lineCounter, ['spec', 'match']);
  }

  (spec.proposals ?? []).forEach((p, i) => {
    const rule = `proposals[${i}]${p.name ? ` (${p.name})` : ''}`;
    const base = ['spec', 'proposals', i];
    const out: CompiledProposal = {
      kind: p.action.kind,
      params: p.action.params ?? {},
      paramsExpr: Object.entries(p.action.paramsExpr ?? {})
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, src]) => [k, compile([...base, 'action', 'paramsExpr', k], `${rule}.action.paramsExpr.${k}`, src, proposalVars, 'any')]),
      source: { file, rule: `${name}/${rule}`, ...position(doc, lineCounter, base) },
    };
    if (p.when !== undefined) out.when = compile([...base, 'when'], `${rule}.when`, p.when, proposalVars, 'bool');
    if (p.reason !== undefined) out.reason = p.reason;
    if (p.reasonExpr !== undefined) out.reasonExpr = compile([...base, 'reasonExpr'], `${rule}.reasonExpr`, p.reasonExpr, proposalVars, 'string');
    compiled.proposals.push(out);
  });

  (spec.verdicts ?? []).forEach((v, i) => {
    const rule = `verdicts[${i}]${v.name ? ` (${v.name})` : ''}`;
    const base = ['spec', 'verdicts', i];
    const out: CompiledVerdict = {
      effect: v.effect,
      priority: v.priority ?? spec.priority ?? 0,
      weight: v.weight ?? spec.weight ?? 1,
      cost: typeof v.cost === 'string' ? compile([...base, 'cost'], `${rule}.cost`, v.cost, JUDGE_VARIABLES, 'number') : (v.cost ?? 0),
      source: { file, rule: `${name}/${rule}`, ...position(doc, lineCounter, base) },
    };
    if (v.when !== undefined) out.when = compile([...base, 'when'], `${rule}.when`, v.when, JUDGE_VARIABLES, 'bool');
    if (v.reason !== undefined) out.reason = v.reason;
    if (v.reasonExpr !== undefined) out.reasonExpr = compile([...base, 'reasonExpr'], `${rule}.reasonExpr`, v.reasonExpr, JUDGE_VARIABLES, 'string');
    compiled.verdicts.push(out);
  });
  // strict mode: a variable no expression reads is dead code (or a rule reads a misspelt twin of it)
  const unused: BundleError[] = [];
  const sources = [
    spec.match,
    ...(spec.variables ?? []).map((v) => v.expression),
    ...(spec.proposals ?? []).flatMap((p) => [p.when, p.reasonExpr, ...Object.values(p.action.paramsExpr ?? {})]),
    ...(spec.verdicts ?? []).flatMap((v) => [v.when, v.reasonExpr, typeof v.cost === 'string' ? v.cost : undefined]),
  ].filter((x): x is string => x !== undefined);
  const read = new Set<string>();
  let readsAll = false;
  for (const source of sources) {
    const names = variablesRead(source);
    if (names === 'all') readsAll = true;
    else for (const n of names) read.add(n);
  }
  if (!readsAll) {
    (spec.variables ?? []).forEach((v, i) => {
      if (!read.has(v.name)) unused.push(new BundleError(`variables[${i}] (${v.name}): no expression reads variables.${v.name}`, `${file}${locate(doc, lineCounter, ['spec', 'variables', i, 'name'], 0)}`));
    });
  }
  return errors.length > 0 ? { errors, unused } : { policy: compiled, errors, unused };
}

/** Stands in for an expression that did not compile (its error is collected; the policy is not returned). */
const FAILED: CelProgram = {
  source: '',
  resultType: 'dyn',
  evaluate() {
    throw new CelEvaluationError('the expression did not compile');
  },
};

function position(doc: YAML.Document, lc: LineCounter, path: PropertyKey[]): { row?: number; col?: number } {
  const node = doc.getIn(path as unknown[], true) as Node | undefined;
  if (!node?.range) return {};
  const p = lc.linePos(node.range[0]);
  return { row: p.line, col: p.col };
}

/** `:line:col` of a YAML node, moved forward by an offset inside the scalar (for CEL errors). */
function locate(doc: YAML.Document, lc: LineCounter, path: PropertyKey[], offset: number): string {
  let node: unknown;
  for (let n = path.length; n >= 0 && !node; n--) node = doc.getIn(path.slice(0, n) as unknown[], true);
  if (!node || !(node as Node).range) return '';
  const start = (node as Node).range![0];
  if (isScalar(node) && typeof node.value === 'string') {
    const text = node.value;
    const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
    const newlines = before.split('\n').length - 1;
    const p = lc.linePos(start);
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
    if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') {
      const lineOfFirst = p.line + 1 + newlines;
      const col = before.length - (before.lastIndexOf('\n') + 1);
      const indent = /^\s*/.exec(doc.toString().split('\n')[lineOfFirst - 1] ?? '')?.[0].length ?? 0;
      return `:${lineOfFirst}:${indent + col + 1}`;
    }
    if (newlines === 0) return `:${p.line}:${p.col + quoted + offset}`;
    return `:${p.line + newlines}`;
  }
  const p = lc.linePos(start);
  return `:${p.line}:${p.col}`;
}

// ── evaluation ──────────────────────────────────────────────────────────────────────────────────

type Activation = Record<string, unknown>;

/** The CEL type name of a result, for messages about results of the wrong type. */
function celTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'double';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Map) return 'map';
  if (v instanceof Date) return 'timestamp';
  return typeof v === 'object' ? 'map' : typeof v;
}

/**
 * Whether a `when` (or `match`) holds. An expression that errors, or gives something other than a bool, throws: the
 * caller fails closed (DESIGN §4.8) instead of reading the error as "does not hold".
 */
function holds(program: CelProgram | undefined, activation: Activation): boolean {
  if (!program) return true;
  const v = program.evaluate(activation);
  if (typeof v === 'boolean') return v;
  throw new CelEvaluationError(`the expression gave ${celTypeOf(v)}, expected bool`);
}

function evaluateReason(text: string | undefined, program: CelProgram | undefined, activation: Activation, fallback: string): string {
  if (!program) return text ?? fallback;
  const v = program.evaluate(activation);
  if (typeof v !== 'string') throw new CelEvaluationError(`reasonExpr gave ${celTypeOf(v)}, expected string`);
  return v;
}

function evaluateCost(cost: number | CelProgram, activation: Activation): number {
  if (typeof cost === 'number') return cost;
  const c = celToPlain(cost.evaluate(activation));
  if (typeof c !== 'number' || !Number.isFinite(c)) throw new CelEvaluationError(`cost gave ${celTypeOf(c)}, expected a finite number`);
  return c;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const EMPTY_VARIABLES = Object.freeze({});

// `variables.<name>`; any other use of the identifier (`variables["x"]`, bare `variables`) makes every variable needed
const VARIABLES_WORD = /\bvariables\b/g;
const VARIABLE_FIELD = /^variables\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)/;

/** Names an expression reads as `variables.<name>`, or `'all'` when it uses `variables` in any other way. */
function variablesRead(source: string): Set<string> | 'all' {
  const names = new Set<string>();
  for (const m of source.matchAll(VARIABLES_WORD)) {
    const field = VARIABLE_FIELD.exec(source.slice(m.index));
    if (!field) return 'all';
    names.add(field[1]!);
  }
  return names;
}

// A guard is the first operand of a `&&` chain (or the whole expression): when it is not true, neither is the
// expression — CEL's `&&` is false or an error then, whatever the other operands give. Without `||` or `?` in the
// rest, the top level of the expression is that chain (they are the only operators binding more loosely than `&&`).
// Guards here are field paths into the activation, alone (must be true) or compared with a plain string literal.
const PATH_GUARD = /^\s*(diagnosis|context|data|action|variables)((?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)+)\s*(?:==\s*"([A-Za-z0-9 ._:-]*)"\s*)?(?:&&([\s\S]*))?$/;

interface Guard {
  /** Activation variable, then field names. */
  path: string[];
  /** The path's value must equal this string; without it, the value must be `true`. */
  equals?: string;
  /** The expression is the guard alone: its outcome is the expression's. */
  whole: boolean;
}

function guardOf(source: string): Guard | undefined {
  const m = PATH_GUARD.exec(source);
  if (!m) return undefined;
  const rest = m[4];
  if (rest !== undefined && (rest.includes('||') || rest.includes('?'))) return undefined;
  const guard: Guard = { path: [m[1]!, ...m[2]!.split('.').slice(1).map((f) => f.trim())], whole: rest === undefined };
  if (m[3] !== undefined) guard.equals = m[3];
  return guard;
}

/** What a guard compares: the value at its path; NO_SUCH_KEY where CEL's selection errors; UNKNOWN: ask CEL. */
const NO_SUCH_KEY = Symbol('no such key');
const UNKNOWN = Symbol('unknown');

function pathValue(activation: Activation, path: readonly string[]): unknown {
  if (!Object.hasOwn(activation, path[0]!)) return NO_SUCH_KEY;
  let v: unknown = activation[path[0]!];
  for (let i = 1; i < path.length; i++) {
    const field = path[i]!;
    if (v instanceof Map) {
      if (!v.has(field)) return NO_SUCH_KEY;
      v = v.get(field);
      continue;
    }
    if (v === null || typeof v !== 'object') return UNKNOWN;
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return UNKNOWN; // lists, timestamps, typed values: CEL decides
    if (!Object.hasOwn(v, field)) return NO_SUCH_KEY;
    v = (v as Record<string, unknown>)[field];
  }
  return v;
}

/** False when the guard shows the expression cannot be true; undefined when CEL has to decide. */
function guardFails(guard: Guard, activation: Activation): boolean | undefined {
  const v = pathValue(activation, guard.path);
  // a missing key is an error in CEL, unless a later operand of the `&&` is false: CEL decides
  if (v === UNKNOWN || v === NO_SUCH_KEY) return undefined;
  // a value of another type than the guard compares (a number where a bool is read) is CEL's to judge: it may error
  if (guard.equals !== undefined) return typeof v === 'string' ? v !== guard.equals : undefined;
  return typeof v === 'boolean' ? !v : undefined;
}

/** A rule with what deciding whether it holds needs, precomputed once per bundle. */
interface PreparedRule<R> {
  rule: R;
  guard?: Guard;
  /** For a guard on `variables.<name>`: that variable's index. */
  guardVariable?: number;
  /** Variables (indices, ascending) the rule's expressions read, directly or through other variables. */
  needs: number[];
}

/** A policy with what evaluating it needs, precomputed once per bundle. */
interface PreparedPolicy {
  policy: CompiledCelPolicy;
  matchGuard?: Guard;
  /** `match` holds only for candidates of this action kind (`action.kind == "<kind>"` heads it). */
  matchKind?: string;
  /**
   * Variables are evaluated when a rule first needs them: every variable reads only earlier ones, by name, so it
   * sees what it would see evaluated in declaration order. Otherwise the phase's variables are evaluated up front.
   */
  lazy: boolean;
  /** Per variable: the variables it reads, directly or not, and itself (indices, ascending). */
  closure: number[][];
  /** All variables, for policies that evaluate them up front. */
  everything: number[];
  proposals: Array<PreparedRule<CompiledProposal>>;
  verdicts: Array<PreparedRule<CompiledVerdict>>;
  /** Which variables the current evaluation has computed (reused: evaluation is synchronous). */
  evaluated: Uint8Array;
  /** Per variable: why its evaluation failed in the current phase, if it did. */
  variableErrors: Array<string | undefined>;
}

function preparePolicy(policy: CompiledCelPolicy): PreparedPolicy {
  const index = new Map(policy.variables.map(([name], i) => [name, i]));
  // a variable reading itself, a later or an unknown one, or `variables` as a whole sees declaration order: no laziness
  let lazy = true;
  const direct = policy.variables.map(([, program], i) => {
    const reads = variablesRead(program.source);
    if (reads === 'all') {
      lazy = false;
      return [];
    }
    const refs: number[] = [];
    for (const name of reads) {
      const j = index.get(name);
      if (j === undefined || j >= i) lazy = false;
      else refs.push(j);
    }
    return refs;
  });
  const closure: number[][] = [];
  direct.forEach((refs, i) => {
    const all = new Set<number>([i]);
    for (const j of refs) for (const k of closure[j] ?? []) all.add(k);
    closure.push([...all].sort((a, b) => a - b));
  });
  // what a set of expressions needs; `all` (every variable) when one of them reads `variables` as a whole
  const needsOf = (programs: readonly CelProgram[]): number[] | 'all' => {
    const all = new Set<number>();
    for (const program of programs) {
      const reads = variablesRead(program.source);
      if (reads === 'all') return 'all';
      for (const name of reads) {
        const j = index.get(name);
        if (j !== undefined) for (const k of closure[j]!) all.add(k);
      }
    }
    return [...all].sort((a, b) => a - b);
  };
  const everything = policy.variables.map((_, i) => i);
  const prepareRule = <R extends { when?: CelProgram }>(rule: R, programs: CelProgram[], judging: boolean): PreparedRule<R> => {
    const needs = needsOf(programs);
    if (needs === 'all') lazy = false;
    const prepared: PreparedRule<R> = { rule, needs: needs === 'all' ? everything : needs };
    const guard = rule.when ? guardOf(rule.when.source) : undefined;
    if (!guard || (guard.path[0] === 'action' && !judging)) return prepared;
    prepared.guard = guard;
    const at = guard.path[0] === 'variables' ? index.get(guard.path[1]!) : undefined;
    if (at !== undefined) prepared.guardVariable = at;
    return prepared;
  };
  const proposals = policy.proposals.map((r) => {
    const programs = [...(r.when ? [r.when] : []), ...(r.reasonExpr ? [r.reasonExpr] : []), ...r.paramsExpr.map(([, program]) => program)];
    return prepareRule(r, programs, false);
  });
  const verdicts = policy.verdicts.map((r) => {
    const programs = [...(r.when ? [r.when] : []), ...(r.reasonExpr ? [r.reasonExpr] : []), ...(typeof r.cost === 'number' ? [] : [r.cost])];
    return prepareRule(r, programs, true);
  });
  const prepared: PreparedPolicy = {
    policy,
    lazy,
    closure,
    everything,
    proposals,
    verdicts,
    evaluated: new Uint8Array(policy.variables.length),
    variableErrors: policy.variables.map(() => undefined),
  };
  const matchGuard = policy.match ? guardOf(policy.match.source) : undefined;
  if (matchGuard) {
    prepared.matchGuard = matchGuard;
    const [root, field] = matchGuard.path;
    if (root === 'action' && field === 'kind' && matchGuard.path.length === 2 && matchGuard.equals !== undefined) prepared.matchKind = matchGuard.equals;
  }
  return prepared;
}

/** Evaluates the listed variables (ascending indices) that are not evaluated yet into `activation.variables`. */
function ensureVariables(p: PreparedPolicy, indices: readonly number[], activation: Activation): void {
  const values = activation.variables as Record<string, unknown>;
  for (const i of indices) {
    if (p.evaluated[i] === 1) continue;
    p.evaluated[i] = 1;
    const [name, program] = p.policy.variables[i]!;
    try {
      values[name] = program.evaluate(activation);
      p.variableErrors[i] = undefined;
    } catch (err) {
      // an erroring variable stays undefined: a rule reading it errors too, and says why
      p.variableErrors[i] = messageOf(err);
    }
  }
}

/** Starts a policy's phase: a fresh `variables` object, filled in declaration order unless the policy is lazy. */
function startVariables(p: PreparedPolicy, activation: Activation): void {
  if (p.policy.variables.length === 0) {
    activation.variables = EMPTY_VARIABLES;
    return;
  }
  activation.variables = {};
  p.evaluated.fill(0);
  p.variableErrors.fill(undefined);
  if (!p.lazy) ensureVariables(p, p.everything, activation);
}

/** Whether a rule holds; afterwards every variable the rule reads is evaluated. */
function ruleHolds(p: PreparedPolicy, r: PreparedRule<{ when?: CelProgram }>, activation: Activation): boolean {
  if (r.guard) {
    if (r.guardVariable !== undefined && p.lazy) ensureVariables(p, p.closure[r.guardVariable]!, activation);
    const fails = guardFails(r.guard, activation);
    if (fails === true) return false;
    if (p.lazy) ensureVariables(p, r.needs, activation);
    if (fails === false && r.guard.whole) return true;
    return holds(r.rule.when, activation);
  }
  if (p.lazy) ensureVariables(p, r.needs, activation);
  return holds(r.rule.when, activation);
}

/** Whether a policy's `match` holds (it runs before the policy's variables exist). */
function matchHolds(p: PreparedPolicy, activation: Activation): boolean {
  const match = p.policy.match;
  if (!match) return true;
  activation.variables = EMPTY_VARIABLES;
  const fails = p.matchGuard ? guardFails(p.matchGuard, activation) : undefined;
  if (fails === true) return false;
  if (fails === false && p.matchGuard!.whole) return true;
  return holds(match, activation);
}

/** Computed proposal parameters must be what ActionParams allows (names were checked when the bundle loaded). */
function isParamValue(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
      return v.length <= 1024;
    case 'number':
      return Number.isFinite(v);
    case 'boolean':
      return true;
    default:
      return v === null;
  }
}

function paramsValid(params: Record<string, unknown>): boolean {
  for (const k in params) if (!isParamValue(params[k])) return false;
  return true;
}

/** The CEL backend of a bundle: policies in name order, rules in file order. */
export function createCelBackend(policies: readonly CompiledCelPolicy[], data: unknown): PolicyBackend {
  return new CelBackend(policies, data);
}

class CelBackend implements PolicyBackend {
  readonly name = 'cel' as const;
  readonly policies: readonly string[];
  readonly #proposers: PreparedPolicy[];
  readonly #judges: PreparedPolicy[];
  /** Judging policies per action kind: those whose `match` is not a comparison with another kind. */
  readonly #judgesByKind = new Map<string, PreparedPolicy[]>();
  readonly #data: unknown;
  #lastNow = '';
  #lastDate = new Date(0);
  // optional maps policies test with has() are present (empty) so a missing one is not an evaluation error
  readonly #views = new WeakMap<object, PolicyInput['diagnosis']>();

  constructor(policies: readonly CompiledCelPolicy[], data: unknown) {
    const sorted = [...policies].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(preparePolicy);
    this.policies = sorted.map((p) => p.policy.name);
    this.#proposers = sorted.filter((p) => p.proposals.length > 0);
    this.#judges = sorted.filter((p) => p.verdicts.length > 0);
    for (const kind of ActionKinds) this.#judgesByKind.set(kind, this.#judgesFor(kind));
    this.#data = data ?? {};
  }

  #judgesFor(kind: string): PreparedPolicy[] {
    return this.#judges.filter((p) => p.matchKind === undefined || p.matchKind === kind);
  }

  #diagnosisView(d: PolicyInput['diagnosis']): PolicyInput['diagnosis'] {
    if (d.signals) return d;
    let v = this.#views.get(d);
    if (!v) this.#views.set(d, (v = { ...d, signals: {} }));
    return v;
  }

  #activationOf(input: PolicyInput): Activation {
    if (input.context.now !== this.#lastNow) {
      this.#lastNow = input.context.now;
      this.#lastDate = new Date(this.#lastNow);
    }
    const a: Activation = { diagnosis: this.#diagnosisView(input.diagnosis), context: input.context, now: this.#lastDate, data: this.#data, variables: EMPTY_VARIABLES };
    if (input.action) a.action = input.action;
    return a;
  }

  propose(input: PolicyInput, errors?: PolicyError[]): Proposal[] {
    const activation = this.#activationOf(input);
    const out: Proposal[] = [];
    for (const p of this.#proposers) {
      const policy = p.policy;
      startVariables(p, activation);
      for (const prepared of p.proposals) {
        const rule = prepared.rule;
        try {
          if (!ruleHolds(p, prepared, activation)) continue;
          const params: Record<string, unknown> = { ...rule.params };
          for (const [key, program] of rule.paramsExpr) params[key] = celToPlain(program.evaluate(activation));
          if (rule.paramsExpr.length > 0 && !paramsValid(params)) throw new CelEvaluationError(`paramsExpr gave parameters that are not scalars: ${JSON.stringify(params)}`);
          const proposal: Proposal = { policy: policy.name, kind: rule.kind, params: params as ActionParams, source: rule.source };
          const reason = evaluateReason(rule.reason, rule.reasonExpr, activation, '');
          if (reason) proposal.reason = reason;
          out.push(proposal);
        } catch (err) {
          // a proposal that cannot be computed adds no candidate (DESIGN §4.8)
          errors?.push(ruleError(p, prepared, 'propose', err));
        }
      }
    }
    return out;
  }

  judge(input: PolicyInput & { action: Action }, errors?: PolicyError[]): Verdict[] {
    const activation = this.#activationOf(input);
    const kind = input.action.kind;
    const out: Verdict[] = [];
    for (const p of this.#judgesByKind.get(kind) ?? this.#judgesFor(kind)) {
      const policy = p.policy;
      try {
        if (!matchHolds(p, activation)) continue;
      } catch (err) {
        // the policy cannot tell whether it applies: every verdict rule of it fails closed
        const message = `match: ${messageOf(err)}`;
        const e: PolicyError = { policy: policy.name, rule: 'match', phase: 'judge', message, source: { file: policy.file, ...(policy.matchSource ?? {}) } };
        errors?.push(e);
        for (const prepared of p.verdicts) out.push(failedVerdict(prepared.rule, policy.name, message, activation));
        continue;
      }
      startVariables(p, activation);
      for (const prepared of p.verdicts) {
        const rule = prepared.rule;
        try {
          if (!ruleHolds(p, prepared, activation)) continue;
          out.push({
            policy: policy.name,
            effect: rule.effect,
            priority: rule.priority,
            weight: rule.weight,
            cost: evaluateCost(rule.cost, activation),
            reason: evaluateReason(rule.reason, rule.reasonExpr, activation, `${policy.name}: ${rule.effect}`),
            source: rule.source,
          });
        } catch (err) {
          const e = ruleError(p, prepared, 'judge', err);
          errors?.push(e);
          out.push(failedVerdict(rule, policy.name, e.message, activation));
        }
      }
    }
    return out;
  }
}

/** The error of one rule, naming the variables it read that failed (their failure is usually the cause). */
function ruleError(p: PreparedPolicy, prepared: PreparedRule<{ source: SourceLocation }>, phase: PolicyError['phase'], err: unknown): PolicyError {
  let message = messageOf(err);
  const failed = prepared.needs.filter((i) => p.variableErrors[i] !== undefined).map((i) => `variables.${p.policy.variables[i]![0]} failed: ${p.variableErrors[i]}`);
  if (failed.length > 0) message += ` (${failed.join('; ')})`;
  const source = prepared.rule.source;
  const rule = source.rule?.startsWith(`${p.policy.name}/`) ? source.rule.slice(p.policy.name.length + 1) : source.rule;
  const e: PolicyError = { policy: p.policy.name, phase, message, source };
  if (rule) e.rule = rule;
  return e;
}

/**
 * The `escalate` verdict a failed rule contributes, at its priority and weight. Its cost is the rule's, never below
 * zero (an error must not make a candidate cheaper); a cost expression that cannot be evaluated counts as UNKNOWN_COST.
 */
function failedVerdict(rule: CompiledVerdict, policy: string, message: string, activation: Activation): Verdict {
  let cost: number;
  try {
    cost = Math.max(0, evaluateCost(rule.cost, activation));
  } catch {
    cost = UNKNOWN_COST;
  }
  return errorVerdict({ policy, priority: rule.priority, weight: rule.weight, cost, message, source: rule.source });
}
