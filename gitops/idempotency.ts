// Has this decision been carried out before? Looks up the idempotency key in the ledger, in open arbiter pull
// requests and in recent commits of the target branch (DESIGN §6). A repeat changes nothing and returns the earlier result.
import type { Mode } from '../engine/types.ts';
import { readCommit } from './commit.ts';
import type { Forge } from './forge/forge.ts';
import { entriesForKey, type Actuation, type DecisionEntry, type RepairEntry } from './ledger.ts';
import { parseTrailers } from './message.ts';
import type { ObjectStore } from './objects.ts';

export interface EarlierResult {
  /** Where the earlier result was found; only `ledger` means the ledger already records it. */
  source: 'ledger' | 'pull-request' | 'branch';
  /** The earlier decision (ledger) or the repair entry that recorded its commit after a crash. */
  entry?: DecisionEntry | RepairEntry;
  actuation: Actuation;
}

const ACTING: ReadonlySet<Mode> = new Set(['auto', 'notify', 'approval']);

/** Commits of the target branch scanned for `Arbiter-Idempotency-Key` (first parents, newest first). */
export const RECENT_COMMITS = 200;

export async function findEarlierResult(query: {
  store: ObjectStore;
  key: string;
  /** The mode of the decision about to be carried out. */
  mode: Mode;
  ledgerTip: string | null;
  targetTip: string | null;
  targetBranch: string;
  forge?: Forge;
  recentCommits?: number;
}): Promise<EarlierResult | undefined> {
  const entries = await entriesForKey(query.store, query.ledgerTip, query.key);
  // an earlier action is a repeat; an earlier escalation only repeats an escalation (the situation may have changed)
  const actedBefore = entries.filter((e) => e.actuation.commit !== null);
  const same = actedBefore.at(-1) ?? (ACTING.has(query.mode) ? undefined : entries.filter((e) => e.kind === 'Decision' && e.mode === query.mode).at(-1));
  if (same) return { source: 'ledger', entry: same, actuation: same.actuation };
  if (!ACTING.has(query.mode)) return undefined;

  if (query.forge) {
    const pr = await query.forge.findOpenPullRequest({ idempotencyKey: query.key });
    if (pr) return { source: 'pull-request', actuation: { commit: pr.headSha || null, branch: pr.branch, pullRequest: { number: pr.number, url: pr.url } } };
  }
  let oid = query.targetTip;
  for (let depth = 0; oid && depth < (query.recentCommits ?? RECENT_COMMITS); depth++) {
    const commit = await readCommit(query.store, oid);
    if (parseTrailers(commit.message)['Arbiter-Idempotency-Key'] === query.key) {
      return { source: 'branch', actuation: { commit: oid, branch: query.targetBranch, pullRequest: null } };
    }
    oid = commit.parents[0] ?? null;
  }
  return undefined;
}
