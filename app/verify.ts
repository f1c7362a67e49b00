// Verification and compensation (DESIGN §7): after an `auto`/`notify` actuation, wait until the controller applied
// the commit, then watch the action's metric. Not recovered ⇒ a signed compensating commit that restores the changed
// files from the actuation commit's parent, a Compensation ledger entry (which opens the circuit for the service,
// see gitops/ledger.ts `ledgerHistory`) and a notification. Every step is a ledger entry; every wait is bounded.
import { createHash } from 'node:crypto';
import type { VerificationSpec } from '../actions/types.ts';
import type { ActionTarget, Decision } from '../engine/types.ts';
import { durationMs } from '../actions/duration.ts';
import { readCommit, readPath, type TreeChange } from '../gitops/commit.ts';
import { LEDGER_API_VERSION, LEDGER_BRANCH, incidentIndexDir, type CompensationEntry, type VerificationEntry } from '../gitops/ledger.ts';
import { commitSubject, formatMessage, parseTrailers, wrap } from '../gitops/message.ts';
import { NOTIFY_TYPES, notificationEvent, type NotificationOutcome, type Notifier } from '../gitops/notify.ts';
import type { ObjectStore } from '../gitops/objects.ts';
import { Repository } from '../gitops/repo.ts';
import type { Signer } from '../gitops/sign/signer.ts';
import { watchRecovery, type MetricRule, type PrometheusClient, type RecoveryCheck } from '../gitops/verify/metrics.ts';
import { waitForReconciliation, type ReconcileWait, type ReconcileWatcher } from '../gitops/verify/reconciliation.ts';
import { land, retrying, writeChange } from './transaction.ts';

export const COMPENSATES_TRAILER = 'Arbiter-Compensates';
/** How far back on the target branch an earlier compensating commit is looked for. */
const RECENT_COMMITS = 200;

/** A verification step in the ledger. */
export type VerificationStep = VerificationEntry | CompensationEntry;

export interface VerifyOptions {
  /** Local repository path or http(s) URL. */
  repo: string;
  branch?: string;
  cacheDir?: string;
  /** Signing is on by default: `null` writes unsigned commits deliberately (tests). */
  signer: Signer | null;
  decision: Decision;
  /** The actuation commit on the target branch. */
  commit: string;
  /** What the action promises (actions/<kind>.ts `verification`). */
  spec: VerificationSpec;
  /** The diagnosis signal for `spec.metric`, for an `improvementPercent` rule. */
  signal?: number;
  /** Omitted: the controller is not watched (documented as "no reconciliation check"). */
  watcher?: ReconcileWatcher;
  prometheus: PrometheusClient;
  metrics: Record<string, MetricRule>;
  reconcileTimeoutMs: number;
  pollMs: number;
  /** Overrides the action's window (e.g. shorter in a test, longer for a slow metric). */
  windowMs?: number;
  consecutive?: number;
  notifier?: Notifier;
  /** The clock for ledger times (an edge; injectable for tests). */
  clock?: () => string;
  abort?: AbortSignal;
  /** Runs Git writes one at a time with other writers of the same repository (the server's per-repository queue). */
  serialise?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** How long races with other writers are retried (default app/transaction.ts RETRY_WINDOW_MS). */
  retryWindowMs?: number;
  log?: (line: string) => void;
}

export interface Compensation {
  outcome: 'reverted' | 'failed';
  commit: string | null;
  changed: string[];
  detail: string;
}

export interface VerificationResult {
  decision: string;
  outcome: 'recovered' | 'failed' | 'unverified' | 'already-verified';
  reconciliation: ReconcileWait | null;
  recovery: RecoveryCheck | null;
  compensation: Compensation | null;
  /** Ledger commits this verification wrote, in order. */
  ledgerCommits: string[];
  notification?: NotificationOutcome;
}

/** `10m`, `1h30m`, `500ms` → milliseconds; undefined when it is not a duration (actions/duration.ts, with `ms`). */
export function parseDuration(text: string): number | undefined {
  return durationMs(text, { milliseconds: true });
}

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function targetOf(decision: Decision): ActionTarget {
  return decision.action?.target ?? decision.target;
}

function eventFields(decision: Decision, suffix: string, detail: string, at: string, commit: string | null, branch: string | null): Omit<VerificationEntry, 'kind' | 'outcome'> {
  return {
    apiVersion: LEDGER_API_VERSION,
    id: `${decision.id}.${suffix}`,
    decision: decision.id,
    incident: decision.incident,
    target: targetOf(decision),
    at,
    detail,
    actuation: { commit, branch, pullRequest: null },
  };
}

function verificationStep(decision: Decision, suffix: string, outcome: VerificationEntry['outcome'], detail: string, at: string, commit: string | null, branch: string | null): VerificationEntry {
  return { ...eventFields(decision, suffix, detail, at, commit, branch), kind: 'Verification', outcome };
}

/** True when the ledger already holds the entry `id` of this incident (index files are named by entry id). */
async function ledgerHas(repo: Repository, incident: string, id: string): Promise<boolean> {
  await repo.sync([LEDGER_BRANCH]);
  const tip = await repo.tip(LEDGER_BRANCH);
  if (!tip) return false;
  return (await readPath(repo.store, (await readCommit(repo.store, tip)).tree, `${incidentIndexDir(incident)}/${id}`)) !== undefined;
}

async function withRepository<T>(options: VerifyOptions, fn: (repo: Repository) => Promise<T>): Promise<T> {
  const run = async (): Promise<T> => {
    const repo = await Repository.open(options.repo, { cacheDir: options.cacheDir });
    try {
      return await repo.withCacheLock(() => fn(repo));
    } finally {
      repo.store.close();
    }
  };
  return options.serialise ? options.serialise(run) : run();
}

/** Appends one entry to the ledger (nothing else moves): a race reads the new ledger tip and appends again. */
async function appendStep(repo: Repository, entry: VerificationStep, signer: Signer | null, windowMs: number | undefined): Promise<string> {
  const window = windowMs !== undefined ? { windowMs } : {};
  return retrying(async () => {
    await repo.sync([LEDGER_BRANCH]);
    const ledgerTip = await repo.tip(LEDGER_BRANCH);
    return (await land(repo, { moves: [], entry, ledgerTip, signer: signer ?? undefined, ...window })).ledgerCommit;
  }, window);
}

/** Paths whose blob differs between two trees, descending only into subtrees that differ. */
export async function diffTrees(store: ObjectStore, a: string | null, b: string | null, base = ''): Promise<string[]> {
  if (a === b) return [];
  const left = new Map((a ? await store.readTree(a) : []).map((e) => [e.name, e]));
  const right = new Map((b ? await store.readTree(b) : []).map((e) => [e.name, e]));
  const out: string[] = [];
  for (const name of new Set([...left.keys(), ...right.keys()])) {
    const l = left.get(name);
    const r = right.get(name);
    if (l && r && l.oid === r.oid && l.mode === r.mode) continue;
    const lTree = l?.mode === '40000' ? l.oid : null;
    const rTree = r?.mode === '40000' ? r.oid : null;
    if (lTree || rTree) out.push(...(await diffTrees(store, lTree, rTree, `${base}${name}/`)));
    if ((l && l.mode !== '40000') || (r && r.mode !== '40000')) out.push(`${base}${name}`);
  }
  return out.sort();
}

async function findCompensation(store: ObjectStore, tip: string, commit: string): Promise<string | undefined> {
  let oid: string | undefined = tip;
  for (let i = 0; oid && i < RECENT_COMMITS; i++) {
    const c = await readCommit(store, oid);
    if (parseTrailers(c.message)[COMPENSATES_TRAILER] === commit) return oid;
    oid = c.parents[0];
  }
  return undefined;
}

/** What compensation decided on the current tip: a revert commit to land, or an outcome with nothing to write. */
type CompensationPlan = { revert: { commit: string; tip: string; changed: string[] } } | { done: Compensation };

async function planCompensation(repo: Repository, options: { decision: Decision; commit: string; branch: string; signer: Signer | null; reason: string }): Promise<CompensationPlan> {
  const { decision, commit, branch } = options;
  await repo.sync([branch]);
  repo.store.beginBatch();
  const tip = await repo.tip(branch);
  const failed = (detail: string): CompensationPlan => ({ done: { outcome: 'failed', commit: null, changed: [], detail } });
  if (!tip) return failed(`branch ${branch} is gone`);
  const earlier = await findCompensation(repo.store, tip, commit);
  if (earlier) return { done: { outcome: 'reverted', commit: earlier, changed: [], detail: `commit ${commit} was already reverted by ${earlier}` } };
  let acted;
  try {
    acted = await readCommit(repo.store, commit);
  } catch {
    return failed(`actuation commit ${commit} is not in ${branch}'s history`);
  }
  const parent = acted.parents[0];
  if (!parent) return failed(`actuation commit ${commit} has no parent to restore`);
  const parentTree = (await readCommit(repo.store, parent)).tree;
  const tipTree = (await readCommit(repo.store, tip)).tree;
  const changes: TreeChange[] = [];
  const conflicts: string[] = [];
  for (const path of await diffTrees(repo.store, parentTree, acted.tree)) {
    const [before, after, now] = await Promise.all([readPath(repo.store, parentTree, path), readPath(repo.store, acted.tree, path), readPath(repo.store, tipTree, path)]);
    if (now?.oid === before?.oid) continue;
    if (now?.oid !== after?.oid) {
      conflicts.push(path);
      continue;
    }
    changes.push({ path, content: before ? await repo.store.readBlob(before.oid) : null });
  }
  if (conflicts.length) return failed(`cannot revert automatically: ${conflicts.join(', ')} changed on ${branch} after ${commit.slice(0, 12)}`);
  if (changes.length === 0) return { done: { outcome: 'reverted', commit: null, changed: [], detail: `${branch} already has the content from before ${commit.slice(0, 12)}` } };
  const target = targetOf(decision);
  const kind = decision.action?.kind ?? 'change';
  const message = formatMessage(
    commitSubject(target.service, `revert ${kind}: verification failed`),
    [
      wrap(`Compensates commit ${commit} of decision ${decision.id} (incident ${decision.incident}): ${options.reason}`),
      wrap(`This commit restores ${changes.map((c) => c.path).join(', ')} to their content before the actuation.`),
      wrap(`What happens next: the circuit breaker for ${target.service} is open for the cooldown, so arbiter acts on it only through pull requests; a human takes over the incident.`),
    ],
    {
      'Arbiter-Decision': decision.id,
      'Arbiter-Incident': decision.incident,
      'Arbiter-Action': kind,
      'Arbiter-Target': `${target.namespace || 'default'}/${target.service}`,
      'Arbiter-Mode': 'escalate',
      'Arbiter-Support': decision.support.toFixed(2),
      'Arbiter-Idempotency-Key': `sha256:${createHash('sha256').update(JSON.stringify({ compensates: commit })).digest('hex')}`,
      'Arbiter-Bundle-Revision': decision.bundle.revision || 'unknown',
      [COMPENSATES_TRAILER]: commit,
    },
  );
  const revert = await writeChange(repo, { parent: tip, baseTree: tipTree, changes, message, signer: options.signer ?? undefined });
  return { revert: { commit: revert, tip, changed: changes.map((c) => c.path).sort() } };
}

/**
 * Restores the files the actuation commit changed to their content in its parent, on the current tip, and records
 * the Compensation entry in the same transaction. A file changed again since (by a human or another decision) is not
 * overwritten: the compensation then fails and says which.
 */
export async function compensate(
  repo: Repository,
  options: { decision: Decision; commit: string; branch: string; signer: Signer | null; reason: string; at: () => string; retryWindowMs?: number; log: (l: string) => void },
): Promise<Compensation & { ledgerCommit: string }> {
  const { decision, branch } = options;
  const window = options.retryWindowMs !== undefined ? { windowMs: options.retryWindowMs } : {};
  return retrying(
    async () => {
      const plan = await planCompensation(repo, options);
      const outcome: Compensation =
        'done' in plan ? plan.done : { outcome: 'reverted', commit: plan.revert.commit, changed: plan.revert.changed, detail: `reverted ${options.commit.slice(0, 12)} with ${plan.revert.commit.slice(0, 12)}` };
      const entry: CompensationEntry = { ...eventFields(decision, 'compensation', outcome.detail, options.at(), outcome.commit, outcome.commit ? branch : null), kind: 'Compensation', outcome: outcome.outcome };
      await repo.sync([LEDGER_BRANCH]);
      const ledgerTip = await repo.tip(LEDGER_BRANCH);
      const moves = 'revert' in plan ? [{ branch, oid: plan.revert.commit, expected: plan.revert.tip }] : [];
      const { ledgerCommit } = await land(repo, { moves, entry, ledgerTip, signer: options.signer ?? undefined, log: options.log, ...window });
      return { ...outcome, ledgerCommit };
    },
    { log: options.log, what: 'compensation attempt', ...window },
  );
}

/** The whole §7 loop for one actuated decision. Idempotent: a decision with a recorded verification is not re-verified. */
export async function verifyActuation(options: VerifyOptions): Promise<VerificationResult> {
  const { decision, commit, spec } = options;
  const branch = options.branch ?? 'main';
  const clock = options.clock ?? isoNow;
  const log = options.log ?? (() => undefined);
  const target = targetOf(decision);
  const result: VerificationResult = { decision: decision.id, outcome: 'failed', reconciliation: null, recovery: null, compensation: null, ledgerCommits: [] };

  if (await withRepository(options, (repo) => ledgerHas(repo, decision.incident, `${decision.id}.verification`))) {
    return { ...result, outcome: 'already-verified' };
  }
  const record = (entry: VerificationStep): Promise<void> =>
    withRepository(options, async (repo) => {
      result.ledgerCommits.push(await appendStep(repo, entry, options.signer, options.retryWindowMs));
    });

  // 1. the controller applied our commit and the application is healthy
  let failure: string | undefined;
  if (options.watcher) {
    result.reconciliation = await waitForReconciliation(options.watcher, target, commit, {
      timeoutMs: options.reconcileTimeoutMs,
      pollMs: options.pollMs,
      signal: options.abort,
      contains: (revision) => withRepository(options, (repo) => descendsFrom(repo, branch, revision, commit)),
    });
    log(`verification of ${decision.id}: ${result.reconciliation.detail}`);
    if (result.reconciliation.reconciled) await record(verificationStep(decision, 'reconciled', 'reconciled', result.reconciliation.detail, clock(), commit, branch));
    else failure = result.reconciliation.detail;
  }

  // 2. the metric recovered within the window
  const windowMs = options.windowMs ?? parseDuration(spec.window) ?? 600_000;
  if (!failure) {
    result.recovery = await watchRecovery({
      prometheus: options.prometheus,
      rule: options.metrics[spec.metric],
      spec,
      windowMs,
      pollMs: options.pollMs,
      consecutive: options.consecutive,
      signal: options.signal,
      vars: { service: target.service, namespace: target.namespace, window: spec.window },
      abort: options.abort,
    });
    log(`verification of ${decision.id}: ${result.recovery.detail}`);
    if (result.recovery.outcome === 'failed') failure = result.recovery.detail;
  }
  const outcome = failure ? 'failed' : (result.recovery?.outcome ?? 'failed');
  result.outcome = outcome;
  const detail = failure ?? result.recovery!.detail;
  await record(verificationStep(decision, 'verification', outcome, detail, clock(), commit, branch));
  if (result.outcome !== 'failed') return result;

  // 3. not recovered: revert, record (the circuit opens), tell a human
  result.compensation = await withRepository(options, async (repo) => {
    const { ledgerCommit, ...c } = await compensate(repo, { decision, commit, branch, signer: options.signer, reason: detail, at: clock, log, ...(options.retryWindowMs !== undefined ? { retryWindowMs: options.retryWindowMs } : {}) });
    result.ledgerCommits.push(ledgerCommit);
    return c;
  });
  const notifier = options.notifier;
  if (notifier) {
    const reverted = result.compensation.outcome === 'reverted';
    result.notification = await notifier.notify(
      notificationEvent(
        reverted ? NOTIFY_TYPES.compensation : NOTIFY_TYPES.verificationFailed,
        {
          summary: reverted
            ? `arbiter reverted ${decision.action?.kind ?? 'its change'} on ${target.namespace}/${target.service}: ${spec.metric} did not recover; escalating incident ${decision.incident}`
            : `verification of ${decision.action?.kind ?? 'a change'} on ${target.namespace}/${target.service} failed and the change could not be reverted: ${result.compensation.detail}`,
          decision: decision.id,
          incident: decision.incident,
          service: target.service,
          namespace: target.namespace,
          mode: 'escalate',
          action: decision.action?.kind ?? null,
          commit: result.compensation.commit,
          branch: result.compensation.commit ? branch : null,
          ledgerCommit: result.ledgerCommits.at(-1) ?? null,
          detail,
        },
        clock(),
      ),
    );
  }
  return result;
}

/** True when `revision` is on `branch` and has `commit` among its first-parent ancestors (bounded walk). */
async function descendsFrom(repo: Repository, branch: string, revision: string, commit: string): Promise<boolean> {
  if (!/^[0-9a-f]{40}$/.test(revision)) return false;
  await repo.sync([branch]);
  let oid: string | undefined = revision;
  for (let i = 0; oid && i < RECENT_COMMITS; i++) {
    if (oid === commit) return true;
    if (!(await repo.store.has(oid))) return false;
    oid = (await readCommit(repo.store, oid)).parents[0];
  }
  return false;
}
