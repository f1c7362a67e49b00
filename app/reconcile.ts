// `reconcile`: carry out due follow-ups recorded in the ledger (issue 5 item 6, DESIGN §7) — scheduled reverts of
// temporary changes and staged promotions — as signed commits on the target branch plus a ledger entry each.
// Idempotent: a settled follow-up is never carried out twice, and a commit that landed before a crash is found by
// its `Arbiter-Follow-Up` trailer and only recorded.
// An approval-mode decision's follow-up waits for its pull request: it becomes due once the change is on the target
// branch (found by its idempotency-key trailer: a merge keeps the commit, a squash keeps the trailers from the body),
// its clock starting at the merge (the forge's `merged_at`, else the committer date of the commit that landed it);
// a pull request closed without merging cancels it.
import { createHash } from 'node:crypto';
import { dueFollowUps, getAction, planFollowUp, PlanRefusedError, checkRender } from '../actions/index.ts';
import type { RecordedFollowUp } from '../actions/index.ts';
import { followUpAfterMerge, resolveChange, type ChangeState } from '../actions/follow-ups.ts';
import type { FileEdit, Plan } from '../actions/types.ts';
import { parseCalendar, parseCatalog } from '../engine/context.ts';
import { InputError } from '../engine/errors.ts';
import type { CatalogService, Context } from '../engine/types.ts';
import { readCommit, readPath } from '../gitops/commit.ts';
import { historyViewAt, treeViewAt } from '../gitops/history.ts';
import { LEDGER_BRANCH, readLedgerEntries, type Actuation, type DecisionEntry, type FollowUpEntry, type LedgerEntry } from '../gitops/ledger.ts';
import type { Forge, PullRequestStatus } from '../gitops/forge/forge.ts';
import { commitSubject, formatMessage, parseTrailers, wrap } from '../gitops/message.ts';
import type { ObjectStore } from '../gitops/objects.ts';
import { Repository } from '../gitops/repo.ts';
import type { Signer } from '../gitops/sign/signer.ts';
import { KILL_SWITCH_FILE, sourcesFromTree } from './context.ts';
import { repairLedger } from './repair.ts';
import { land, retrying, writeChange } from './transaction.ts';

export const FOLLOW_UP_TRAILER = 'Arbiter-Follow-Up';
/** How far back on the target branch a follow-up commit without its ledger entry is looked for. */
const RECENT_COMMITS = 200;
/** How many commits of the target branch are searched for a pull request's merge (bounded: a long-lived branch). */
const MERGE_SEARCH_COMMITS = 5000;

export interface ReconcileOptions {
  /** Local repository path or http(s) URL. */
  repo: string;
  branch?: string;
  /** Defaults to the clock (this is an edge). */
  now?: string;
  /** Signing is on by default: pass a signer, or `null` to write unsigned commits deliberately (tests). */
  signer: Signer | null | undefined;
  cacheDir?: string;
  /** Bundle settings (e.g. `stagedRollout`), passed to the planners. */
  settings?: Record<string, unknown>;
  /** kubectl for the render check (default: found on PATH). */
  kubectl?: string;
  /** How long races with other writers are retried (default app/transaction.ts RETRY_WINDOW_MS). */
  retryWindowMs?: number;
  /** The forge approval-mode pull requests were opened on: merge times and closures come from it (else from the branch). */
  forge?: Forge;
  log?: (line: string) => void;
}

export type StepOutcome = 'done' | 'already-applied' | 'cancelled' | 'paused' | 'refused';

export interface ReconcileStep {
  decision: string;
  kind: 'revert' | 'promote';
  due: string;
  outcome: StepOutcome;
  commit: string | null;
  ledgerCommit: string | null;
  changed: string[];
  detail: string;
}

export interface ReconcileResult {
  now: string;
  steps: ReconcileStep[];
  /** Follow-ups not yet due (or waiting for a pull request to merge). */
  pending: Array<{ decision: string; kind: 'revert' | 'promote'; due: string; detail: string; pullRequest?: number }>;
}

const settlesKey = (decision: string, kind: string): string => `${decision} ${kind}`;

/**
 * Follow-ups recorded by actuated decisions on `branch`, and whether a FollowUp entry settled them. (A promotion
 * whose decision failed verification is settled as cancelled when it comes due.)
 */
export function recordedFollowUps(entries: LedgerEntry[], branch: string): { recorded: RecordedFollowUp[]; awaitingMerge: RecordedFollowUp[]; decisions: Map<string, DecisionEntry> } {
  const settled = new Map<string, RecordedFollowUp['settled']>();
  for (const e of entries) {
    if (e.kind === 'FollowUp') settled.set(settlesKey(e.decision, e.followUp.kind), { outcome: e.outcome, at: e.at, detail: e.detail });
  }
  const recorded: RecordedFollowUp[] = [];
  const awaitingMerge: RecordedFollowUp[] = [];
  const decisions = new Map<string, DecisionEntry>();
  for (const d of entries) {
    if (d.kind !== 'Decision') continue;
    if (!d.followUp || !d.actuation.commit) continue;
    decisions.set(d.id, d);
    const r: RecordedFollowUp = { decision: d.id, followUp: d.followUp };
    const s = settled.get(settlesKey(d.id, d.followUp.kind));
    if (s) r.settled = s;
    if (d.actuation.branch === branch) recorded.push(r);
    else if (!r.settled) awaitingMerge.push(r);
  }
  return { recorded, awaitingMerge, decisions };
}

function followUpKey(decision: string, kind: string, due: string): string {
  return `sha256:${createHash('sha256').update(JSON.stringify({ decision, due, followUp: kind })).digest('hex')}`;
}

function followUpSubject(service: string, kind: 'revert' | 'promote', what: string): string {
  return commitSubject(service, kind === 'revert' ? `revert: ${what}` : `promote: ${what}`);
}

/** A context for planning a follow-up: only `now` matters to the planners; the rest is neutral. */
function plannerContext(now: string, decision: DecisionEntry, service: CatalogService): Context {
  return {
    now,
    service: { name: decision.target.service, namespace: service.namespace ?? decision.target.namespace, criticality: service.criticality, owners: service.owners },
    calendar: { businessHours: false, maintenanceWindow: false, changeFreeze: false, peakEvent: null },
    history: { incidentActions: 0, serviceActionsLastHour: 0, circuitOpen: false },
    killSwitch: false,
  };
}

/** A commit on `branch` (recent first-parent history) that already carried out this follow-up. */
async function findFollowUpCommit(store: ObjectStore, tip: string, trailer: string): Promise<string | undefined> {
  let oid: string | undefined = tip;
  for (let i = 0; oid && i < RECENT_COMMITS; i++) {
    const commit = await readCommit(store, oid);
    if (parseTrailers(commit.message)[FOLLOW_UP_TRAILER] === trailer) return oid;
    oid = commit.parents[0];
  }
  return undefined;
}

/** True when a paragraph made only of trailer lines carries `Arbiter-Idempotency-Key: <key>` (anywhere: a squash message may list several). */
export function messageCarriesKey(message: string, key: string): boolean {
  const wanted = `Arbiter-Idempotency-Key: ${key}`;
  if (!message.includes(wanted)) return false;
  return message
    .replace(/\r\n/g, '\n')
    .split(/\n[ \t]*\n/)
    .some((paragraph) => {
      const lines = paragraph.trim().split('\n').map((l) => l.trim());
      return lines.includes(wanted) && lines.every((l) => /^[A-Za-z0-9-]+:\s/.test(l));
    });
}

const isoSeconds = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');

/**
 * The commit of `branch`'s first-parent history that brought a pull request's change in: one that carries the key
 * (squash, rebase, fast-forward) or `mergeCommit`, or a merge whose other side holds one. `at` is that commit's
 * committer date, i.e. when the change reached the branch. The walk stops at `stopAt` (where the pull request
 * branched off: nothing older can hold it) and after MERGE_SEARCH_COMMITS commits.
 */
export async function findLandedChange(store: ObjectStore, tip: string, query: { key: string; mergeCommit?: string; stopAt: Set<string> }): Promise<{ commit: string; at: string } | undefined> {
  const seen = new Set<string>();
  const holds = (oid: string, message: string): boolean => oid === query.mergeCommit || messageCarriesKey(message, query.key);
  let budget = MERGE_SEARCH_COMMITS;
  for (let oid: string | undefined = tip; oid && budget > 0 && !query.stopAt.has(oid); budget--) {
    seen.add(oid);
    const commit = await readCommit(store, oid);
    if (holds(oid, commit.message)) return { commit: oid, at: isoSeconds(commit.committedAt) };
    const side = commit.parents.slice(1);
    while (side.length && budget > 0) {
      const s = side.pop()!;
      if (seen.has(s) || query.stopAt.has(s) || !(await store.has(s))) continue;
      seen.add(s);
      budget--;
      const c = await readCommit(store, s);
      if (holds(s, c.message)) return { commit: oid, at: isoSeconds(commit.committedAt) };
      side.push(...c.parents);
    }
    oid = commit.parents[0];
  }
  return undefined;
}

/** Where an approval-mode decision's change stands: on `branch` (and since when), closed unmerged, or still open. */
async function changeState(repo: Repository, decision: DecisionEntry, branch: string, targetTip: string, forge: Forge | undefined, log: (line: string) => void): Promise<ChangeState> {
  const pr = decision.actuation.pullRequest;
  let status: PullRequestStatus | undefined;
  if (forge?.getPullRequest && pr) {
    try {
      status = await forge.getPullRequest(pr.number);
    } catch (err) {
      // a forge outage must not hold reverts back: the branch still tells whether the change landed
      log(`cannot read pull request #${pr.number} from the forge (${err instanceof Error ? err.message : String(err)}); looking for its change on ${branch}`);
    }
    if (status && status.base !== branch) return { state: 'open', detail: `pull request #${pr.number} targets ${status.base}, not ${branch}` };
  }
  const stopAt = new Set<string>();
  if (decision.actuation.commit && (await repo.store.has(decision.actuation.commit))) {
    for (const parent of (await readCommit(repo.store, decision.actuation.commit)).parents) stopAt.add(parent);
  }
  const onBranch = await findLandedChange(repo.store, targetTip, { key: decision.idempotencyKey, mergeCommit: status?.mergeCommitSha ?? undefined, stopAt });
  return resolveChange(onBranch, status);
}

export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  if (options.signer === undefined) throw new InputError('signing is on by default: give a signing key', 'signingKey');
  const now = options.now ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (Number.isNaN(Date.parse(now))) throw new InputError('must be an RFC 3339 timestamp such as 2026-11-21T02:13:00Z', 'now');
  const branch = options.branch ?? 'main';
  const log = options.log ?? (() => undefined);
  const repo = await Repository.open(options.repo, { cacheDir: options.cacheDir });
  return repo.withCacheLock(async () => {
    await repo.sync([branch, LEDGER_BRANCH]);
    if (!(await repo.tip(branch))) throw new InputError(`branch ${branch} does not exist in ${options.repo}`, 'branch');
    // an arbiter commit a crash left without its ledger entry is recorded first, so the follow-ups below see it
    await repairLedger(repo, { branch, signer: options.signer ?? undefined, now: () => now, log });
    const targetTip = (await repo.tip(branch))!;
    const { recorded, awaitingMerge, decisions } = recordedFollowUps(await readLedgerEntries(repo.store, await repo.tip(LEDGER_BRANCH)), branch);
    // approval mode: a follow-up's clock starts when its pull request's change reaches the branch
    const merged: RecordedFollowUp[] = [];
    const closed: Array<{ entry: RecordedFollowUp; detail: string }> = [];
    const waiting: ReconcileResult['pending'] = [];
    for (const r of awaitingMerge) {
      const decision = decisions.get(r.decision)!;
      const pullRequest = decision.actuation.pullRequest?.number;
      const pr = pullRequest === undefined ? 'its pull request' : `pull request #${pullRequest}`;
      if (decision.mode !== 'approval') {
        waiting.push({ decision: r.decision, kind: r.followUp.kind, due: r.followUp.due, detail: `${r.followUp.detail} (awaiting the pull request's merge)` });
        continue;
      }
      const change = await changeState(repo, decision, branch, targetTip, options.forge, log);
      if (change.state === 'merged') {
        const after = followUpAfterMerge(r, decision.decidedAt, change.at);
        const source = change.via === 'forge' ? `${pr} merged at ${change.at}` : `change landed on ${branch} in ${change.commit.slice(0, 12)} at ${change.at}`;
        merged.push({ ...after, followUp: { ...after.followUp, detail: `${r.followUp.detail.replace(r.followUp.due, after.followUp.due)} (${source})` } });
      } else if (change.state === 'closed') {
        closed.push({ entry: r, detail: `${r.followUp.kind === 'revert' ? 'revert' : 'promotion'} cancelled: ${pr} was closed without merging${change.at ? ` at ${change.at}` : ''}, so the change never reached ${branch}` });
      } else {
        waiting.push({ decision: r.decision, kind: r.followUp.kind, due: r.followUp.due, detail: `${r.followUp.detail} (${change.detail}; the clock starts at the merge)`, ...(pullRequest === undefined ? {} : { pullRequest }) });
      }
    }
    const candidates = [...recorded, ...merged];
    const due = dueFollowUps(candidates, now);
    const pending = [
      ...candidates.filter((r) => !r.settled && !due.includes(r)).map((r) => ({ decision: r.decision, kind: r.followUp.kind, due: r.followUp.due, detail: r.followUp.detail })),
      ...waiting,
    ];
    const steps: ReconcileStep[] = [];
    const withRetries = async (decision: string, attemptOnce: () => Promise<ReconcileStep>): Promise<void> => {
      steps.push(await retrying(attemptOnce, { log, what: `follow-up of ${decision}, attempt`, ...(options.retryWindowMs !== undefined ? { windowMs: options.retryWindowMs } : {}) }));
    };
    for (const { entry, detail } of closed) await withRetries(entry.decision, () => cancelUnmerged(repo, entry, detail, { ...options, branch, now }));
    for (const entry of due) await withRetries(entry.decision, () => carryOut(repo, entry, { ...options, branch, now }));
    return { now, steps, pending };
  });
}

async function carryOut(repo: Repository, recorded: RecordedFollowUp, options: ReconcileOptions & { branch: string; now: string }): Promise<ReconcileStep> {
  const { branch, now } = options;
  const { followUp } = recorded;
  await repo.sync([branch, LEDGER_BRANCH]);
  const targetTip = (await repo.tip(branch))!;
  const ledgerTip = await repo.tip(LEDGER_BRANCH);
  const entries = await readLedgerEntries(repo.store, ledgerTip);
  const { recorded: fresh, awaitingMerge, decisions } = recordedFollowUps(entries, branch);
  const decision = decisions.get(recorded.decision)!;
  const step: ReconcileStep = { decision: recorded.decision, kind: followUp.kind, due: followUp.due, outcome: 'done', commit: null, ledgerCommit: null, changed: [], detail: followUp.detail };
  // another reconcile may have settled it since we listed the due ones (an approval-mode one is listed as awaiting its merge)
  const current = [...fresh, ...awaitingMerge].find((r) => r.decision === recorded.decision && r.followUp.kind === followUp.kind);
  if (!current || current.settled) return { ...step, outcome: 'already-applied', detail: 'settled by another reconcile' };

  const failure = entries.find((e) => (e.kind === 'Verification' || e.kind === 'Compensation') && e.decision === recorded.decision && (e.outcome === 'failed' || e.kind === 'Compensation'));
  if (followUp.kind === 'promote' && failure && failure.kind !== 'Decision') {
    const detail = `promotion cancelled: ${failure.kind.toLowerCase()} of decision ${recorded.decision} ${failure.outcome} at ${failure.at} (${failure.detail})`;
    step.ledgerCommit = await record(repo, ledgerTip, decision, followUp, 'cancelled', detail, { commit: null, branch: null, pullRequest: null }, options);
    return { ...step, outcome: 'cancelled', detail };
  }

  const targetTree = (await readCommit(repo.store, targetTip)).tree;
  if (followUp.kind === 'promote' && (await readPath(repo.store, targetTree, KILL_SWITCH_FILE))) {
    return { ...step, outcome: 'paused', detail: 'kill switch .arbiter/pause is set: promotions wait (scheduled reverts still run)' };
  }
  const trailer = `${followUp.kind} ${recorded.decision}`;
  const landed = await findFollowUpCommit(repo.store, targetTip, trailer);
  if (landed) {
    const actuation: Actuation = { commit: landed, branch, pullRequest: null };
    step.ledgerCommit = await record(repo, ledgerTip, decision, followUp, 'done', `${followUp.detail} (commit ${landed} found on ${branch}; recorded now)`, actuation, options);
    return { ...step, commit: landed };
  }

  const { catalog } = await sourcesFromTree(repo.store, targetTree, { parseCatalog, parseCalendar });
  const service = catalog?.services[decision.target.service];
  if (!service) return { ...step, outcome: 'refused', detail: `service ${decision.target.service} is not in .arbiter/catalog.yaml on ${branch}` };
  const scope = [...service.paths, '.arbiter/'];
  let plan: Plan;
  try {
    const tree = await treeViewAt(repo.store, targetTree, scope);
    plan = await planFollowUp(current, {
      tree,
      service,
      context: plannerContext(now, decision, service),
      history: historyViewAt(repo.store, targetTip, scope),
      settings: options.settings,
    });
    await checkRender(tree, plan.edits, service, { kubectl: options.kubectl });
  } catch (err) {
    if (err instanceof PlanRefusedError || err instanceof InputError) return { ...step, outcome: 'refused', detail: err.message };
    throw err;
  }
  if (plan.edits.length === 0) {
    const detail = `${followUp.detail}: ${branch} already has it`;
    step.ledgerCommit = await record(repo, ledgerTip, decision, followUp, 'done', detail, { commit: null, branch: null, pullRequest: null }, options);
    return { ...step, outcome: 'already-applied', detail };
  }
  const definition = getAction(plan.applied.kind);
  const target = plan.applied.target;
  const message = formatMessage(
    followUpSubject(target.service, followUp.kind, definition.describe(plan.applied)),
    [
      wrap(`Follow-up of decision ${decision.id} (incident ${decision.incident}), due ${followUp.due}: ${followUp.detail}.`),
      `What changes:\n${plan.notes.map((n) => wrap(`- ${n}`)).join('\n')}`,
      wrap(`What happens next: Argo CD / Flux apply this commit; arbiter then checks that ${definition.verification.metric} ${definition.verification.direction}s within ${definition.verification.window}.`),
    ],
    {
      'Arbiter-Decision': decision.id,
      'Arbiter-Incident': decision.incident,
      'Arbiter-Action': plan.applied.kind,
      'Arbiter-Target': `${target.namespace || 'default'}/${target.service}`,
      'Arbiter-Mode': 'auto',
      'Arbiter-Support': decision.support.toFixed(2),
      'Arbiter-Idempotency-Key': followUpKey(decision.id, followUp.kind, followUp.due),
      'Arbiter-Bundle-Revision': decision.bundle.revision || 'unknown',
      [FOLLOW_UP_TRAILER]: trailer,
    },
  );
  const changes = plan.edits.map((e: FileEdit) => ({ path: e.path, content: e.after }));
  const commit = await writeChange(repo, { parent: targetTip, baseTree: targetTree, changes, message, signer: options.signer ?? undefined });
  const changed = plan.edits.map((e) => e.path).sort();
  const entry = settlement(decision, followUp, 'done', followUp.detail, { commit, branch, pullRequest: null }, options.now);
  const { ledgerCommit } = await land(repo, { moves: [{ branch, oid: commit, expected: targetTip }], entry, ledgerTip, signer: options.signer ?? undefined, log: options.log, ...windowOf(options) });
  step.ledgerCommit = ledgerCommit;
  return { ...step, commit, changed };
}

/** Settles an approval-mode follow-up whose pull request was closed without merging: a ledger entry, nothing else. */
async function cancelUnmerged(repo: Repository, recorded: RecordedFollowUp, detail: string, options: ReconcileOptions & { branch: string; now: string }): Promise<ReconcileStep> {
  const { followUp } = recorded;
  await repo.sync([LEDGER_BRANCH]);
  const ledgerTip = await repo.tip(LEDGER_BRANCH);
  const { awaitingMerge, decisions } = recordedFollowUps(await readLedgerEntries(repo.store, ledgerTip), options.branch);
  const step: ReconcileStep = { decision: recorded.decision, kind: followUp.kind, due: followUp.due, outcome: 'cancelled', commit: null, ledgerCommit: null, changed: [], detail };
  if (!awaitingMerge.some((r) => r.decision === recorded.decision && r.followUp.kind === followUp.kind)) return { ...step, outcome: 'already-applied', detail: 'settled by another reconcile' };
  const decision = decisions.get(recorded.decision)!;
  step.ledgerCommit = await record(repo, ledgerTip, decision, followUp, 'cancelled', detail, { commit: null, branch: null, pullRequest: decision.actuation.pullRequest }, options);
  return step;
}

function settlement(decision: DecisionEntry, followUp: RecordedFollowUp['followUp'], outcome: 'done' | 'cancelled', detail: string, actuation: Actuation, now: string): FollowUpEntry {
  return {
    apiVersion: 'arbiter.dev/v1',
    kind: 'FollowUp',
    id: `${decision.id}.${followUp.kind}`,
    decision: decision.id,
    incident: decision.incident,
    target: decision.action?.target ?? decision.target,
    at: now,
    outcome,
    detail,
    followUp,
    actuation,
  };
}

const windowOf = (options: ReconcileOptions): { windowMs?: number } => (options.retryWindowMs !== undefined ? { windowMs: options.retryWindowMs } : {});

/** A ledger entry only (nothing moves on the target branch): a race restarts the caller's attempt. */
async function record(repo: Repository, ledgerTip: string | null, decision: DecisionEntry, followUp: RecordedFollowUp['followUp'], outcome: 'done' | 'cancelled', detail: string, actuation: Actuation, options: ReconcileOptions & { branch: string; now: string }): Promise<string> {
  const entry = settlement(decision, followUp, outcome, detail, actuation, options.now);
  return (await land(repo, { moves: [], entry, ledgerTip, signer: options.signer ?? undefined, log: options.log, ...windowOf(options) })).ledgerCommit;
}
