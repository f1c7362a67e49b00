// Ledger repair (issue 10 item 4): an arbiter commit on the target branch without its ledger entry (a crash between
// the branch push and the ledger push) is recorded by the next act, reconcile or serve start as a `Repair` entry,
// not only when the same diagnosis happens to be sent again.
// The walk goes back from the tip along first parents and stops after RECORDED_RUN arbiter commits in a row that
// the ledger records (every run repairs after it lands, so an orphan is never buried deeper than the writers that
// raced it) or after REPAIR_DEPTH commits.
import { readCommit } from '../gitops/commit.ts';
import { LEDGER_API_VERSION, LEDGER_BRANCH, commitRecorded, type RepairEntry } from '../gitops/ledger.ts';
import { parseTrailers } from '../gitops/message.ts';
import { Repository } from '../gitops/repo.ts';
import type { Signer } from '../gitops/sign/signer.ts';
import { land, retrying } from './transaction.ts';

export const REPAIR_DEPTH = 50;
const RECORDED_RUN = 10;
/** Ids written into ledger paths: a commit whose trailers are not path-safe is left to audit, never recorded. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface RepairOptions {
  branch: string;
  signer: Signer | undefined;
  /** The time recorded in the entries (the operator's clock). */
  now: () => string;
  depth?: number;
  log?: (line: string) => void;
}

/** Arbiter commits on `branch` (newest first) that the ledger does not record. */
async function unrecordedCommits(repo: Repository, options: RepairOptions): Promise<Array<{ oid: string; trailers: Record<string, string> }>> {
  const tip = await repo.tip(options.branch);
  const ledgerTip = await repo.tip(LEDGER_BRANCH);
  const out: Array<{ oid: string; trailers: Record<string, string> }> = [];
  let oid: string | undefined = tip ?? undefined;
  let recordedInARow = 0;
  for (let depth = 0; oid && depth < (options.depth ?? REPAIR_DEPTH) && recordedInARow < RECORDED_RUN; depth++) {
    const commit = await readCommit(repo.store, oid);
    const trailers = parseTrailers(commit.message);
    const incident = trailers['Arbiter-Incident'];
    if (incident && trailers['Arbiter-Decision'] && trailers['Arbiter-Idempotency-Key']) {
      if (await commitRecorded(repo.store, ledgerTip, incident, oid)) {
        recordedInARow++;
        oid = commit.parents[0];
        continue;
      }
      recordedInARow = 0;
      if (SAFE_ID.test(incident) && SAFE_ID.test(trailers['Arbiter-Decision'])) out.push({ oid, trailers });
      else options.log?.(`commit ${oid} carries Arbiter- trailers that are not valid ids; not recorded (audit reports it)`);
    }
    oid = commit.parents[0];
  }
  return out;
}

function repairEntry(oid: string, trailers: Record<string, string>, branch: string, at: string): RepairEntry {
  const [namespace, service] = (trailers['Arbiter-Target'] ?? '').includes('/') ? trailers['Arbiter-Target']!.split('/', 2) : ['default', trailers['Arbiter-Target'] ?? 'unknown'];
  const decision = trailers['Arbiter-Decision']!;
  return {
    apiVersion: LEDGER_API_VERSION,
    kind: 'Repair',
    id: `${decision}.repair-${oid.slice(0, 12)}`,
    decision,
    incident: trailers['Arbiter-Incident']!,
    target: { service: service || 'unknown', namespace: namespace || 'default' },
    at,
    outcome: 'recorded',
    detail: `commit ${oid} on ${branch} carries decision ${decision} but had no ledger entry (a crash between the branch and the ledger push); recorded by repair`,
    actuation: { commit: oid, branch, pullRequest: null },
    idempotencyKey: trailers['Arbiter-Idempotency-Key']!,
  };
}

/** Records every unrecorded arbiter commit on the branch, oldest first; returns the commits it recorded. */
export async function repairLedger(repo: Repository, options: RepairOptions): Promise<string[]> {
  const repaired: string[] = [];
  await retrying(
    async () => {
      await repo.sync([options.branch, LEDGER_BRANCH]);
      for (const { oid, trailers } of (await unrecordedCommits(repo, options)).reverse()) {
        const ledgerTip = await repo.tip(LEDGER_BRANCH);
        repo.store.beginBatch();
        await land(repo, { moves: [], entry: repairEntry(oid, trailers, options.branch, options.now()), ledgerTip, signer: options.signer, ...(options.log ? { log: options.log } : {}) });
        options.log?.(`repaired the ledger: recorded commit ${oid} of decision ${trailers['Arbiter-Decision']}`);
        repaired.push(oid);
      }
    },
    { ...(options.log ? { log: options.log } : {}), what: 'ledger repair, attempt' },
  );
  return repaired;
}

/** Opens the repository (under its cache lock) and repairs its ledger: what `arbiter serve` does when it starts. */
export async function repairRepository(location: string, options: RepairOptions & { cacheDir?: string }): Promise<string[]> {
  const repo = await Repository.open(location, options.cacheDir ? { cacheDir: options.cacheDir } : {});
  try {
    return await repo.withCacheLock(() => repairLedger(repo, options));
  } finally {
    repo.store.close();
  }
}
