// The decision pipeline (DESIGN §4.2–§4.7): propose → judge → combine → select → gate → guardrails → Decision.
// Pure and synchronous: no clock, no randomness; candidates, verdicts and reports are ordered explicitly.
import { canonicalJson, decisionId, idempotencyKey } from './canonical.ts';
import type { BundleSettings, CostModel } from './settings.ts';
import {
  API_VERSION,
  Effects,
  modeRank,
  type Action,
  type ActionKind,
  type ActionParams,
  type ActionTarget,
  type ActingMode,
  type CandidateReport,
  type CatalogService,
  type CombineStrategy,
  type Context,
  type Decision,
  type Diagnosis,
  type Effect,
  type GuardrailReport,
  type PolicyBackend,
  type PolicyError,
  type Verdict,
} from './types.ts';

/** What `decide` needs from a bundle (a full `Bundle` satisfies it). */
export interface DecisionBundle {
  revision: string;
  digest: string;
  settings: BundleSettings;
  cost: CostModel;
  backends: readonly PolicyBackend[];
}

export interface DecideArgs {
  diagnosis: Diagnosis;
  context: Context;
  bundle: DecisionBundle;
  /** The target service's catalog entry: namespace allowlist and parameter bounds for the guardrails. */
  service?: CatalogService;
}

/** Reported numbers (and the comparisons made on them) are rounded to 6 decimals, so float noise cannot flip a tie. */
export const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// ── propose ─────────────────────────────────────────────────────────────────────────────────────

export interface Candidate {
  action: Action;
  /** `(kind, canonical params)`: the de-duplication and ordering key. */
  key: string;
  proposedBy: string[];
  reasons: string[];
}

/** The target of every candidate: the diagnosis target service, in the diagnosis namespace, else the catalog's, else `default`. */
export function candidateTarget(diagnosis: Diagnosis, context: Context, service?: CatalogService): ActionTarget {
  return {
    service: diagnosis.target.service,
    namespace: diagnosis.target.namespace ?? service?.namespace ?? context.service.namespace ?? 'default',
  };
}

function addCandidate(byKey: Map<string, Candidate>, target: ActionTarget, kind: ActionKind, params: ActionParams, by: string, reason?: string): void {
  const key = `${kind} ${canonicalJson(params)}`;
  let c = byKey.get(key);
  if (!c) {
    c = { action: { kind, target: { ...target }, params: { ...params } }, key, proposedBy: [], reasons: [] };
    byKey.set(key, c);
  }
  if (!c.proposedBy.includes(by)) c.proposedBy.push(by);
  if (reason && !c.reasons.includes(reason)) c.reasons.push(reason);
}

function byCandidateKey(a: Candidate, b: Candidate): number {
  return byString(a.key, b.key);
}

/** Candidates from the policies' proposals and the diagnosis' suggestions; a proposal that failed is in `errors` instead. */
export function proposeCandidates(diagnosis: Diagnosis, context: Context, backends: readonly PolicyBackend[], target: ActionTarget, errors?: PolicyError[]): Candidate[] {
  const byKey = new Map<string, Candidate>();
  const input = { diagnosis, context };
  for (const backend of backends) for (const p of backend.propose(input, errors)) addCandidate(byKey, target, p.kind, p.params, p.policy, p.reason);
  for (const h of diagnosis.hypotheses) {
    if (!h.suggestedActions) continue;
    for (const s of h.suggestedActions) addCandidate(byKey, target, s.kind, s.params ?? {}, 'diagnosis', `suggested for ${h.cause}`);
  }
  const out = [...byKey.values()];
  if (out.length > 1) out.sort(byCandidateKey);
  for (const c of out) if (c.proposedBy.length > 1) c.proposedBy.sort(byString);
  return out;
}

// ── judge ───────────────────────────────────────────────────────────────────────────────────────

/** The verdicts on one candidate; a rule that failed contributes an `escalate` verdict and is in `errors` too. */
export function judgeCandidate(diagnosis: Diagnosis, context: Context, backends: readonly PolicyBackend[], action: Action, errors?: PolicyError[]): Verdict[] {
  const verdicts: Verdict[] = [];
  const input = { diagnosis, context, action };
  for (const backend of backends) for (const v of backend.judge(input, errors)) verdicts.push(v);
  let ordered = true;
  for (let i = 1; i < verdicts.length && ordered; i++) ordered = verdicts[i - 1]!.policy <= verdicts[i]!.policy;
  if (ordered) return verdicts;
  // stable: policy name order, each policy's rules in their own order
  return verdicts.map((v, i) => ({ v, i })).sort((a, b) => byString(a.v.policy, b.v.policy) || a.i - b.i).map((x) => x.v);
}

// ── combine (§4.3) ──────────────────────────────────────────────────────────────────────────────

export interface Combined {
  effect: Effect;
  /** Verdicts that determined the effect. */
  decisive: Verdict[];
  /** Verdicts that did not determine it. */
  overruled: Verdict[];
  /** True when no verdict applied and `resolution.default` was used. */
  defaulted: boolean;
}

const EFFECT_RANK = Object.fromEntries(Effects.map((e, i) => [e, i])) as Readonly<Record<Effect, number>>;

function mostConservative(vs: readonly Verdict[]): Effect {
  let e: Effect = 'allow';
  for (const v of vs) if (EFFECT_RANK[v.effect] > EFFECT_RANK[e]) e = v.effect;
  return e;
}

const isPermissive = (e: Effect): boolean => e === 'allow' || e === 'notify';

function totalWeight(vs: readonly Verdict[]): number {
  let sum = 0;
  for (const v of vs) sum += v.weight;
  return round6(sum);
}

/** Splits the verdicts into those that determined the effect and the rest, keeping their order. */
function splitDecisive(verdicts: readonly Verdict[], isDecisive: (v: Verdict) => boolean, effect: Effect): Combined {
  const decisive: Verdict[] = [];
  const overruled: Verdict[] = [];
  for (const v of verdicts) (isDecisive(v) ? decisive : overruled).push(v);
  return { effect, decisive, overruled, defaulted: false };
}

export function combineVerdicts(verdicts: readonly Verdict[], strategy: CombineStrategy, defaultEffect: Effect): Combined {
  if (verdicts.length === 0) return { effect: defaultEffect, decisive: [], overruled: [], defaulted: true };
  switch (strategy) {
    case 'priority': {
      let top = -Infinity;
      for (const v of verdicts) top = Math.max(top, v.priority);
      // the most conservative effect among the top-priority verdicts
      let effect: Effect = 'allow';
      for (const v of verdicts) if (v.priority === top && EFFECT_RANK[v.effect] > EFFECT_RANK[effect]) effect = v.effect;
      const decisive: Verdict[] = [];
      const overruled: Verdict[] = [];
      for (const v of verdicts) (v.priority === top && v.effect === effect ? decisive : overruled).push(v);
      return { effect, decisive, overruled, defaulted: false };
    }
    case 'deny-overrides': {
      const effect = mostConservative(verdicts);
      return splitDecisive(verdicts, (v) => v.effect === effect, effect);
    }
    case 'majority': {
      const permissive = verdicts.filter((v) => isPermissive(v.effect));
      const restrictive = verdicts.filter((v) => !isPermissive(v.effect));
      // the heavier side wins; a tie goes to the restrictive side (if it voted at all)
      const permissiveWins = restrictive.length === 0 || totalWeight(permissive) > totalWeight(restrictive);
      const side = permissiveWins ? permissive : restrictive;
      return splitDecisive(verdicts, (v) => side.includes(v), mostConservative(side));
    }
    case 'first-applicable': {
      const ordered = verdicts
        .map((v, i) => ({ v, i }))
        .sort((a, b) => b.v.priority - a.v.priority || byString(a.v.policy, b.v.policy) || a.i - b.i);
      const first = ordered[0]!.v;
      return splitDecisive(verdicts, (v) => v === first, first.effect);
    }
  }
}

// ── select (§4.4) ───────────────────────────────────────────────────────────────────────────────

export function pSuccess(diagnosis: Diagnosis, kind: ActionKind, cost: CostModel): number {
  const eff = cost.effectiveness[kind];
  if (!eff) return 0;
  let sum = 0;
  for (const h of diagnosis.hypotheses) sum += h.confidence * (eff[h.cause] ?? 0);
  return Math.min(1, sum);
}

/** h addresses a when effectiveness[a.kind][h.cause] > 0 or a's kind is among h's suggested actions. */
export function addresses(h: Diagnosis['hypotheses'][number], kind: ActionKind, cost: CostModel): boolean {
  return (cost.effectiveness[kind]?.[h.cause] ?? 0) > 0 || (h.suggestedActions ?? []).some((s) => s.kind === kind);
}

export function support(diagnosis: Diagnosis, kind: ActionKind, cost: CostModel): number {
  let sum = 0;
  for (const h of diagnosis.hypotheses) if (addresses(h, kind, cost)) sum += h.confidence;
  return Math.min(1, sum);
}

/** C: what leaving the incident to a human costs. */
export function escalationCost(context: Context, cost: CostModel): number {
  return (cost.incidentCostPerMinute[context.service.criticality] ?? 0) * cost.minutesUnresolved;
}

export function expectedCost(kind: ActionKind, verdicts: readonly Verdict[], p: number, escalation: number, cost: CostModel): number {
  return (cost.actionCost[kind] ?? 0) + verdicts.reduce((s, v) => s + v.cost, 0) + (1 - p) * escalation;
}

export interface JudgedCandidate extends Candidate {
  verdicts: Verdict[];
  combined: Combined;
  support: number;
  pSuccess: number;
  expectedCost: number;
  actionCost: number;
}

export const isEligible = (c: { combined: { effect: Effect } }): boolean => c.combined.effect !== 'deny' && c.combined.effect !== 'escalate';

interface CostOrdered {
  expectedCost: number;
  actionCost: number;
  key: string;
  action: { kind: string };
}

/** Cost order: expected cost, then action cost, then kind name (then params, for a total order). */
function byCost(a: CostOrdered, b: CostOrdered): number {
  return a.expectedCost - b.expectedCost || a.actionCost - b.actionCost || byString(a.action.kind, b.action.kind) || byString(a.key, b.key);
}

export interface Selection {
  /** The candidate that runs, or null when escalation wins. */
  winner: JudgedCandidate | null;
  /** When escalation wins: the eligible candidate with the lowest expected cost (a recommendation), or null. */
  recommendation: JudgedCandidate | null;
  escalationCost: number;
}

/**
 * `cost`: the cheapest of the eligible candidates and escalation; escalation counts as action cost 0 and kind
 * "escalate", so an exact tie goes to escalation. `support`: the eligible candidate with the highest support
 * (ties by cost order); escalation only when nothing is eligible.
 */
export function selectAction(candidates: readonly JudgedCandidate[], strategy: 'cost' | 'support', escalation: number): Selection {
  const eligible = candidates.filter(isEligible);
  if (strategy === 'support') {
    const best = eligible.reduce<JudgedCandidate | null>((m, c) => (!m || c.support - m.support > 0 || (c.support === m.support && byCost(c, m) < 0) ? c : m), null);
    return { winner: best, recommendation: null, escalationCost: escalation };
  }
  const cheapest = eligible.reduce<JudgedCandidate | null>((m, c) => (!m || byCost(c, m) < 0 ? c : m), null);
  if (!cheapest) return { winner: null, recommendation: null, escalationCost: escalation };
  const escalationOption: CostOrdered = { expectedCost: escalation, actionCost: 0, key: 'escalate', action: { kind: 'escalate' } };
  const escalationWins = byCost(escalationOption, cheapest) < 0;
  return escalationWins ? { winner: null, recommendation: cheapest, escalationCost: escalation } : { winner: cheapest, recommendation: null, escalationCost: escalation };
}

// ── gate (§4.5) ─────────────────────────────────────────────────────────────────────────────────

export function gateThresholds(settings: BundleSettings, kind: ActionKind): { auto: number; notify: number } {
  const per = settings.gates.perAction[kind];
  return { auto: per?.auto ?? settings.gates.auto, notify: per?.notify ?? settings.gates.notify };
}

export function gateMode(effect: Effect, supportValue: number, gates: { auto: number; notify: number }): ActingMode {
  switch (effect) {
    case 'allow':
      return supportValue >= gates.auto ? 'auto' : supportValue >= gates.notify ? 'notify' : 'approval';
    case 'notify':
      return supportValue >= gates.notify ? 'notify' : 'approval';
    case 'require_approval':
      return 'approval';
    default:
      return 'escalate';
  }
}

// ── guardrails (§4.6) ───────────────────────────────────────────────────────────────────────────

/** The more conservative of two modes on the ladder auto → notify → approval → escalate. */
export const lowerTo = (mode: ActingMode, cap: ActingMode): ActingMode => (modeRank(mode) >= modeRank(cap) ? mode : cap);

export interface GuardrailOutcome {
  mode: ActingMode;
  action: Action | null;
  reports: GuardrailReport[];
}

function clampTo(value: number, bound: { min?: number; max?: number }): number {
  return Math.min(bound.max ?? Infinity, Math.max(bound.min ?? -Infinity, value));
}

/** The guardrail reports and the mode they have lowered so far. */
class GuardrailLog {
  readonly reports: GuardrailReport[] = [];
  constructor(public mode: ActingMode) {}

  /** Records a guardrail that did not apply. */
  quiet(name: string, detail: string): void {
    this.reports.push({ name, applied: false, detail });
  }

  /** Records a guardrail that applied: the mode goes down to `to` unless it is already there or below. */
  cap(name: string, to: ActingMode, why: string): void {
    const before = this.mode;
    this.mode = lowerTo(before, to);
    this.reports.push({ name, applied: true, detail: before === this.mode ? `${why}; mode ${this.mode} is already at or below ${to}.` : `${why}: mode lowered from ${before} to ${this.mode}.` });
  }
}

export function applyGuardrails(args: { mode: ActingMode; action: Action | null; context: Context; settings: BundleSettings; service?: CatalogService }): GuardrailOutcome {
  const { context, settings, service } = args;
  const g = settings.guardrails;
  let action = args.action;
  const log = new GuardrailLog(args.mode);
  // each report's text is built only for the branch taken: reports are on every decision's hot path

  if (context.killSwitch || g.killSwitch) log.cap('kill-switch', 'approval', `The kill switch is on (${context.killSwitch ? '.arbiter/pause' : 'arbiter.yaml'})`);
  else log.quiet('kill-switch', 'The kill switch is off.');
  if (context.history.circuitOpen) {
    log.cap('circuit-breaker', 'approval', `The circuit is open: a recent arbiter action on ${context.service.name} failed verification (cooldown ${g.circuitCooldownMinutes} min)`);
  } else {
    log.quiet('circuit-breaker', 'The circuit is closed.');
  }
  if (context.history.incidentActions >= g.maxActionsPerIncident) {
    log.cap('incident-action-limit', 'escalate', `Incident already had ${context.history.incidentActions} arbiter actions (limit ${g.maxActionsPerIncident})`);
  } else {
    log.quiet('incident-action-limit', `Incident had ${context.history.incidentActions} of at most ${g.maxActionsPerIncident} actions.`);
  }
  if (context.history.serviceActionsLastHour >= g.serviceActionsPerHour) {
    log.cap(
      'service-rate-limit',
      'approval',
      `${context.service.name} had ${context.history.serviceActionsLastHour} arbiter actions in the last hour (limit ${g.serviceActionsPerHour}/hour)`,
    );
  } else {
    log.quiet('service-rate-limit', `${context.service.name} had ${context.history.serviceActionsLastHour} of at most ${g.serviceActionsPerHour} actions in the last hour.`);
  }

  // blast radius: the namespace must be the catalog's; manifest paths must be relative and stay inside the repo
  let outside: string | undefined;
  if (action && service) {
    if (service.namespace && service.namespace !== action.target.namespace) outside = `namespace ${action.target.namespace} is not ${action.target.service}'s catalog namespace ${service.namespace}`;
    const bad = service.paths.find((p) => p.startsWith('/') || p.split('/').includes('..'));
    if (!outside && bad) outside = `catalog path ${JSON.stringify(bad)} leaves the repository`;
  }
  if (outside !== undefined) log.cap('blast-radius', 'escalate', `Blast radius: ${outside}`);
  else {
    log.quiet(
      'blast-radius',
      !action ? 'No action to check.' : service ? `${action.target.namespace}/${action.target.service} is inside the catalog's allowlist.` : 'No catalog entry was given; manifest paths are checked when the action is planned.',
    );
  }

  const clamped: string[] = [];
  if (action && service) {
    const params: ActionParams = { ...action.params };
    if (action.kind === 'set-config' && typeof params.key === 'string' && service.bounds[params.key]) {
      const raw = params.value;
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (Number.isFinite(n)) {
        const c = clampTo(n, service.bounds[params.key]!);
        if (c !== n) {
          params.value = typeof raw === 'string' ? String(c) : c;
          clamped.push(`${params.key} ${n} → ${c}`);
        }
      }
    } else {
      for (const name of Object.keys(params).sort(byString)) {
        const v = params[name];
        const bound = service.bounds[name];
        if (typeof v !== 'number' || !bound) continue;
        const c = clampTo(v, bound);
        if (c !== v) {
          params[name] = c;
          clamped.push(`${name} ${v} → ${c}`);
        }
      }
    }
    if (clamped.length > 0) action = { ...action, params };
  }
  log.reports.push({
    name: 'parameter-bounds',
    applied: clamped.length > 0,
    detail: clamped.length > 0 ? `Parameters clamped to the catalog's bounds: ${clamped.join(', ')}.` : action ? 'Parameters are within the catalog bounds.' : 'No action to check.',
  });
  return { mode: log.mode, action, reports: log.reports };
}

// ── Decision (§4.7) ─────────────────────────────────────────────────────────────────────────────

/** `2914` → `2,914`: fixed formatting, independent of the machine's locale. */
export function formatCost(x: number): string {
  const n = Math.round(x);
  const digits = String(Math.abs(n));
  let s = digits;
  if (digits.length > 3 && /^\d+$/.test(digits)) {
    s = digits.slice(0, ((digits.length - 1) % 3) + 1);
    for (let i = s.length; i < digits.length; i += 3) s += `,${digits.slice(i, i + 3)}`;
  } else if (digits.length > 3) {
    s = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ','); // 1e+21 and beyond: as before
  }
  return n < 0 ? `-${s}` : s;
}
const f2 = (x: number): string => x.toFixed(2);

function candidateLabel(c: Candidate, all: readonly Candidate[]): string {
  const same = all.filter((o) => o.action.kind === c.action.kind).length;
  return same > 1 ? `${c.action.kind} ${canonicalJson(c.action.params)}` : c.action.kind;
}

function conflictSentence(c: JudgedCandidate, label: string, strategy: CombineStrategy): string | null {
  const { decisive, overruled } = c.combined;
  const losers = overruled.filter((v) => v.effect !== c.combined.effect);
  if (decisive.length === 0 || losers.length === 0) return null;
  const list = (vs: Verdict[]): string => vs.map((v) => `${v.policy} (priority ${v.priority}, ${v.effect})`).join(', ');
  const how: Record<CombineStrategy, string> = {
    priority: 'overrides',
    'deny-overrides': 'overrides (deny-overrides)',
    majority: 'outvotes',
    'first-applicable': 'applies first and overrides',
  };
  return `${list(decisive)} ${how[strategy]} ${list(losers)} on ${label}.`;
}

export function decide(args: DecideArgs): Decision {
  const { diagnosis, context, bundle, service } = args;
  const { settings, cost } = bundle;
  const target = candidateTarget(diagnosis, context, service);
  const C = round6(escalationCost(context, cost));

  const errors: PolicyError[] = [];
  const judged: JudgedCandidate[] = [];
  const proposed = proposeCandidates(diagnosis, context, bundle.backends, target, errors);
  for (const c of proposed) {
    const kind = c.action.kind;
    const before = errors.length;
    const verdicts = judgeCandidate(diagnosis, context, bundle.backends, c.action, errors);
    for (let i = before; i < errors.length; i++) errors[i]!.candidate = candidateLabel(c, proposed);
    const p = round6(pSuccess(diagnosis, kind, cost));
    judged.push({
      action: c.action,
      key: c.key,
      proposedBy: c.proposedBy,
      reasons: c.reasons,
      verdicts,
      combined: combineVerdicts(verdicts, settings.resolution.combine, settings.resolution.default),
      support: round6(support(diagnosis, kind, cost)),
      pSuccess: p,
      expectedCost: round6(expectedCost(kind, verdicts, p, C, cost)),
      actionCost: cost.actionCost[kind] ?? 0,
    });
  }

  const selection = selectAction(judged, settings.resolution.select, C);
  const chosen = selection.winner ?? selection.recommendation;
  const rationale: string[] = [];
  const hypotheses = [...diagnosis.hypotheses].sort((a, b) => b.confidence - a.confidence || byString(a.cause, b.cause));
  rationale.push(`Diagnosis ${diagnosis.id} for ${target.namespace}/${target.service}: ${hypotheses.map((h) => `${h.cause} (${f2(h.confidence)})`).join(', ')}.`);
  if (judged.length === 0) rationale.push('No policy proposed an action and the diagnosis suggested none.');
  for (const c of judged) {
    const label = candidateLabel(c, judged);
    if (c.combined.defaulted) rationale.push(`No policy judged ${label}; the bundle default (${settings.resolution.default}) applies.`);
    const conflict = conflictSentence(c, label, settings.resolution.combine);
    if (conflict) rationale.push(conflict);
  }

  let mode: ActingMode;
  if (selection.winner) {
    const w = selection.winner;
    const addressedBy = hypotheses.filter((h) => addresses(h, w.action.kind, cost));
    const causes = addressedBy.length > 0 ? addressedBy.map((h) => `${h.cause} (${f2(h.confidence)})`).join(' and ') : 'No hypothesis';
    rationale.push(
      settings.resolution.select === 'cost'
        ? `${causes} ${addressedBy.length > 1 ? 'are' : 'is'} addressed by ${w.action.kind}; pSuccess ${f2(w.pSuccess)}; expected cost ${formatCost(w.expectedCost)} vs escalation ${formatCost(C)}.`
        : `${w.action.kind} has the highest support (${f2(w.support)}) of the eligible candidates.`,
    );
    const gates = gateThresholds(settings, w.action.kind);
    mode = gateMode(w.combined.effect, w.support, gates);
    const gateText =
      w.combined.effect === 'require_approval'
        ? `Effect require_approval on ${w.action.kind}: mode approval.`
        : mode === 'auto'
          ? `Support ${f2(w.support)} ≥ auto gate ${f2(gates.auto)} with effect ${w.combined.effect}: mode auto.`
          : mode === 'notify'
            ? `Support ${f2(w.support)} ≥ notify gate ${f2(gates.notify)}${w.combined.effect === 'allow' ? ` but < auto gate ${f2(gates.auto)}` : ''} with effect ${w.combined.effect}: mode notify.`
            : `Support ${f2(w.support)} < notify gate ${f2(gates.notify)} with effect ${w.combined.effect}: mode approval.`;
    rationale.push(gateText);
  } else {
    mode = 'escalate';
    const blocked = judged.filter((c) => !isEligible(c)).map((c) => `${candidateLabel(c, judged)}: ${c.combined.effect}`);
    if (selection.recommendation) {
      const r = selection.recommendation;
      rationale.push(`Escalation (expected cost ${formatCost(C)}) is cheaper than ${r.action.kind} (expected cost ${formatCost(r.expectedCost)}, pSuccess ${f2(r.pSuccess)}); ${r.action.kind} is recommended to the on-call engineer.`);
    } else if (judged.length > 0) {
      rationale.push(`No candidate is eligible (${blocked.join('; ')}); escalating to a human.`);
    } else {
      rationale.push('Escalating to a human.');
    }
  }

  const guardrailArgs: Parameters<typeof applyGuardrails>[0] = { mode, action: chosen ? chosen.action : null, context, settings };
  if (service) guardrailArgs.service = service;
  const guarded = applyGuardrails(guardrailArgs);
  if (errors.length > 0) capForPolicyErrors(guarded, errors);
  for (const r of guarded.reports) if (r.applied) rationale.push(r.detail);

  let finalMode: Decision['mode'] = guarded.mode;
  let wouldBe: ActingMode | undefined;
  if (settings.mode === 'shadow') {
    wouldBe = guarded.mode;
    finalMode = 'shadow';
    rationale.push(`The bundle runs in shadow mode: the decision is recorded only; it would have been ${wouldBe}.`);
  }

  const action = guarded.action;
  let overruled: Verdict[];
  if (chosen) overruled = chosen.combined.overruled;
  else {
    overruled = [];
    for (const c of judged) for (const v of c.combined.overruled) overruled.push(v);
  }
  const decision: Decision = {
    apiVersion: API_VERSION,
    kind: 'Decision',
    id: decisionId(diagnosis.id, bundle.digest, context),
    idempotencyKey: idempotencyKey({ incident: diagnosis.incident, action, target }),
    incident: diagnosis.incident,
    diagnosis: diagnosis.id,
    decidedAt: context.now,
    mode: finalMode,
    action,
    support: chosen ? chosen.support : 0,
    target: action ? action.target : target,
    candidates: judged.map(
      (c): CandidateReport => ({
        action: c.action,
        proposedBy: c.proposedBy,
        effect: c.combined.effect,
        support: c.support,
        pSuccess: c.pSuccess,
        expectedCost: c.expectedCost,
        verdicts: c.verdicts,
      }),
    ),
    resolution: {
      combine: settings.resolution.combine,
      select: settings.resolution.select,
      winner: selection.winner ? candidateLabel(selection.winner, judged) : 'escalate',
      overruled,
    },
    guardrails: guarded.reports,
    bundle: { revision: bundle.revision, digest: bundle.digest },
    rationale,
  };
  if (wouldBe) decision.wouldBe = wouldBe;
  if (errors.length > 0) decision.errors = errors;
  return decision;
}

/** `policy/rule (phase[, candidate]): message` — one line per policy error, for the rationale and `--explain`. */
export function describePolicyError(e: PolicyError): string {
  const where = e.source ? ` at ${e.source.file}${e.source.row !== undefined ? `:${e.source.row}${e.source.col !== undefined ? `:${e.source.col}` : ''}` : ''}` : '';
  return `${e.policy}${e.rule ? `/${e.rule}` : ''} (${e.phase}${e.candidate ? ` ${e.candidate}` : ''})${where}: ${e.message}`;
}

/**
 * A decision taken while a policy failed is reviewed by a human: the mode is capped at approval (DESIGN §4.8). Failed
 * judgements already escalate their candidate; the cap also covers a failed proposal, whose missing candidate could
 * otherwise let a less careful one win.
 */
function capForPolicyErrors(guarded: GuardrailOutcome, errors: readonly PolicyError[]): void {
  const log = new GuardrailLog(guarded.mode);
  const shown = errors.slice(0, 3).map(describePolicyError).join('; ');
  log.cap('policy-errors', 'approval', `${errors.length} policy error${errors.length > 1 ? 's' : ''} while deciding (${shown}${errors.length > 3 ? '; …' : ''}), failing closed`);
  guarded.mode = log.mode;
  guarded.reports.push(...log.reports);
}

