// The one write transaction (DESIGN §6, issue 9): every Git write arbiter makes goes through this module.
//   writeChange   tree changes on a parent → a (signed) commit object          (objects only, nothing visible yet)
//   land          compare-and-swap / push each branch, then append the ledger entry: the ONLY code that moves a
//                 branch ref and appends the ledger
//   retrying      runs a whole attempt again on a race (another writer moved a branch), with exponential backoff
//                 and jitter, bounded by time rather than by a count, so that many concurrent writers all land
// Order is the safety argument: objects before refs (a ref never points at a missing object), the target branch
// before the ledger (a ledger entry never points at a commit that is not there). A crash between the two leaves an
// arbiter commit without its entry: the next run finds it (repair, see app/repair.ts) and records it.
import { TransientError } from '../engine/errors.ts';
import { readCommit, writeCommit, writeTreeChanges, type TreeChange } from '../gitops/commit.ts';
import { LEDGER_BRANCH, appendLedgerEntry, type LedgerEntry } from '../gitops/ledger.ts';
import { ConcurrentUpdateError, type Repository } from '../gitops/repo.ts';
import type { Signer } from '../gitops/sign/signer.ts';

/** How long a write keeps retrying races before it gives up with a transient error (exit 75, HTTP 503). */
export const RETRY_WINDOW_MS = 60_000;
const BACKOFF_FIRST_MS = 50;
const BACKOFF_MAX_MS = 2_000;

/** A named point of the write sequence where `ARBITER_FAULT_POINT=<name>` kills the process (crash tests only). */
export type FaultPoint = 'objects-written' | 'branch-moved' | 'ledger-appended';

export function faultPoint(name: FaultPoint): void {
  if (process.env.ARBITER_FAULT_POINT === name) process.kill(process.pid, 'SIGKILL');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Exponential backoff with full jitter in [0.5, 1.5) of the step: concurrent writers spread out instead of colliding again. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.round(Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt) * (0.5 + random()));
}

export interface RetryOptions {
  /** Give up after this long (default RETRY_WINDOW_MS). */
  windowMs?: number;
  log?: (line: string) => void;
  /** What is being retried, for the log line. */
  what?: string;
}

/**
 * Runs `attempt` (numbered from 1) until it returns. A ConcurrentUpdateError (a branch moved under us) starts a new
 * attempt after a backoff, until the window is over; then the last race is thrown (a TransientError). Each attempt
 * must begin by reading the current tips: nothing from a lost attempt is reused.
 */
export async function retrying<T>(attempt: (n: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.windowMs ?? RETRY_WINDOW_MS);
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!(err instanceof ConcurrentUpdateError)) throw err;
      const wait = backoffMs(n);
      if (Date.now() + wait > deadline) throw err;
      options.log?.(`${err.message}; ${options.what ?? 'attempt'} ${n + 1} in ${wait} ms`);
      await sleep(wait);
    }
  }
}

/** Writes the commit that applies `changes` on top of `parent` (its tree, or `baseTree` when already read). */
export async function writeChange(
  repo: Repository,
  change: { parent: string; baseTree?: string; changes: TreeChange[]; message: string; signer: Signer | undefined },
): Promise<string> {
  const base = change.baseTree ?? (await readCommit(repo.store, change.parent)).tree;
  const tree = await writeTreeChanges(repo.store, base, change.changes);
  return writeCommit(repo.store, { tree, parents: [change.parent], message: change.message, signer: change.signer });
}

/** A branch to move: compare-and-swap from `expected` (null: create) to `oid`; `force` for arbiter's own PR branches. */
export interface BranchMove {
  branch: string;
  oid: string;
  expected: string | null;
  force?: boolean;
}

export interface Landing {
  /** Moved in order, before the ledger entry. */
  moves: BranchMove[];
  /** Runs after the moves, before the entry is written (e.g. open the pull request whose number the entry records). */
  afterMoves?: () => Promise<void>;
  /** The entry, built after `afterMoves`. */
  entry: LedgerEntry | (() => LedgerEntry);
  /** The ledger tip the caller read at the start of its attempt. */
  ledgerTip: string | null;
  signer: Signer | undefined;
  log?: (line: string) => void;
  windowMs?: number;
}

/**
 * Moves the branches, then appends the ledger entry: the only function that does either. When nothing was moved,
 * a ledger race is thrown (the caller's attempt starts over and re-checks what it decided). Once a branch moved,
 * the actuation stands: a ledger race only re-appends the entry on the new ledger tip, until the window is over;
 * then a TransientError says the commit landed without its entry (the next run repairs it).
 */
export async function land(repo: Repository, landing: Landing): Promise<{ ledgerCommit: string }> {
  const log = landing.log ?? (() => undefined);
  faultPoint('objects-written');
  for (const move of landing.moves) await repo.updateBranch(move.branch, move.oid, move.expected, { force: move.force });
  if (landing.moves.length) faultPoint('branch-moved');
  if (landing.afterMoves) await landing.afterMoves();
  const entry = typeof landing.entry === 'function' ? landing.entry() : landing.entry;
  const deadline = Date.now() + (landing.windowMs ?? RETRY_WINDOW_MS);
  let tip = landing.ledgerTip;
  for (let attempt = 1; ; attempt++) {
    repo.store.beginBatch();
    const oid = await appendLedgerEntry(repo.store, tip, entry, landing.signer);
    try {
      await repo.updateBranch(LEDGER_BRANCH, oid, tip);
      faultPoint('ledger-appended');
      return { ledgerCommit: oid };
    } catch (err) {
      if (!(err instanceof ConcurrentUpdateError) || landing.moves.length === 0) throw err;
      const wait = Math.round(30 * Math.min(attempt, 20) * (0.5 + Math.random()));
      if (Date.now() + wait > deadline) {
        const moved = landing.moves.map((m) => `${m.oid} on ${m.branch}`).join(', ');
        throw new TransientError(`${moved} landed but the ledger entry ${entry.id} could not be recorded (${err.message})`, {
          hint: 'run again: the next act, reconcile or serve start records the missing entry',
        });
      }
      log(`ledger moved; re-appending ${entry.kind.toLowerCase()} ${entry.id}`);
      await sleep(wait);
      await repo.sync([LEDGER_BRANCH]);
      tip = await repo.tip(LEDGER_BRANCH);
    }
  }
}
