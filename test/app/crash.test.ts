// Crash safety (issue 10 item 4): locks name their owner and a dead owner's lock is broken; an arbiter commit left
// without its ledger entry is repaired by the next act or reconcile; exit codes and HTTP statuses per error kind.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { act } from '../../app/act.ts';
import { reconcile } from '../../app/reconcile.ts';
import { backoffMs } from '../../app/transaction.ts';
import { EXIT_CODES, describeError, exitCodeOf } from '../../bin/cli/exit.ts';
import { InputError, InternalError, TransientError } from '../../engine/errors.ts';
import { createForge } from '../../gitops/forge/registry.ts';
import { LEDGER_BRANCH, parseLedgerEntry } from '../../gitops/ledger.ts';
import { breakIfStale, currentOwner, ownerIsDead, tryTakeLock, type LockOwner } from '../../gitops/lock.ts';
import { ConcurrentUpdateError, Repository } from '../../gitops/repo.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { errorResponse } from '../../serve/errors.ts';
import { git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { SHOP_FILES, diagnosis, stubBundle, stubCore } from '../gitops/stub-core.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const key = sshTestKey(tmp.path);
const signer = sshSigner(key.privateKey);
let n = 0;

function freshRepo(): string {
  const bare = `${tmp.path}/shop-${n++}.git`;
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: SHOP_FILES }]);
  return bare;
}

/** The pid of a process that has exited (and been reaped): nobody owns it now. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const deadOwner = (): LockOwner => ({ ...currentOwner(), pid: deadPid(), processStart: null });

describe('locks record their owner; a dead owner is detected, fail closed otherwise', () => {
  it('a reaped pid is dead, this process is alive', () => {
    expect(ownerIsDead(deadOwner())).toBe(true);
    expect(ownerIsDead(currentOwner())).toBe(false);
  });

  it('a live pid with another start time is a reused pid, hence a dead owner', () => {
    expect(ownerIsDead({ ...currentOwner(), pid: process.ppid, processStart: 'not-its-start-time' })).toBe(true);
  });

  it('another host: only age tells (10 minutes)', () => {
    const foreign = { ...currentOwner(), host: `${hostname()}-elsewhere` };
    expect(ownerIsDead({ ...foreign, takenAt: new Date().toISOString() })).toBe(false);
    expect(ownerIsDead({ ...foreign, takenAt: new Date(Date.now() - 11 * 60_000).toISOString() })).toBe(true);
  });

  it('breakIfStale removes a dead owner\'s lock and keeps a live one\'s', () => {
    const dir = `${tmp.path}/locks-${n++}`;
    mkdirSync(dir);
    expect(tryTakeLock(`${dir}/dead.lock`, deadOwner())).toBe(true);
    expect(tryTakeLock(`${dir}/live.lock`)).toBe(true);
    expect(tryTakeLock(`${dir}/live.lock`)).toBe(false);
    expect(breakIfStale(`${dir}/dead.lock`)).toBe(true);
    expect(existsSync(`${dir}/dead.lock`)).toBe(false);
    expect(breakIfStale(`${dir}/live.lock`)).toBe(false);
    expect(existsSync(`${dir}/live.lock`)).toBe(true);
  });

  it('a remote cache lock left by a dead process is broken at once; a live holder makes the run fail as transient', async () => {
    const repo = await Repository.open('http://127.0.0.1:9/shop.git', { cacheDir: `${tmp.path}/cache-${n++}` });
    try {
      const lock = join(repo.gitdir, 'arbiter.lock');
      writeFileSync(lock, `${JSON.stringify(deadOwner())}\n`);
      // waitMs 0: taking it must not need any waiting
      await expect(repo.withCacheLock(async () => 'ran', { waitMs: 0 })).resolves.toBe('ran');
      expect(existsSync(lock)).toBe(false);
      writeFileSync(lock, `${JSON.stringify(currentOwner())}\n`);
      const busy = await repo.withCacheLock(async () => 'ran', { waitMs: 0 }).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(TransientError);
      expect(exitCodeOf(busy)).toBe(75);
    } finally {
      repo.store.close();
    }
  });

  it('a refs/heads/main.lock left by a crashed arbiter (its owner record names a dead pid) does not block the next act', async () => {
    const bare = freshRepo();
    mkdirSync(join(bare, 'arbiter-locks'), { recursive: true });
    writeFileSync(join(bare, 'arbiter-locks', 'refs%heads%main.json'), `${JSON.stringify(deadOwner())}\n`);
    writeFileSync(join(bare, 'refs/heads/main.lock'), '0000000000000000000000000000000000000000\n');
    const r = await act({ diagnosis: diagnosis(), bundle: stubBundle, repo: bare, signer, core: stubCore(), now: '2026-11-21T02:13:00Z' });
    expect(r.actuation.commit).toBe(git(bare, ['rev-parse', 'main']).trim());
    expect(existsSync(join(bare, 'refs/heads/main.lock'))).toBe(false);
  });

  it('a main.lock with no arbiter owner record is git\'s: arbiter does not break it and fails as transient', async () => {
    const bare = freshRepo();
    const main = git(bare, ['rev-parse', 'main']).trim();
    writeFileSync(join(bare, 'refs/heads/main.lock'), `${main}\n`);
    const err = await act({ diagnosis: diagnosis(), bundle: stubBundle, repo: bare, signer, core: stubCore(), now: '2026-11-21T02:13:00Z', retryWindowMs: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConcurrentUpdateError);
    expect(exitCodeOf(err)).toBe(75);
    expect(existsSync(join(bare, 'refs/heads/main.lock'))).toBe(true);
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(main);
  });
});

describe('ledger repair: an arbiter commit without its entry is recorded by the next run', () => {
  /** Acts, then moves the ledger back one entry: the actuation commit stays on main without its entry. */
  async function crashedBeforeLedger(bare: string, incident: string): Promise<string> {
    const r = await act({ diagnosis: diagnosis({ id: `d-${incident}`, incident }), bundle: stubBundle, repo: bare, signer, core: stubCore(), now: '2026-11-21T02:13:00Z' });
    const parent = git(bare, ['rev-list', '--max-count=1', '--skip=1', LEDGER_BRANCH]).trim();
    if (parent) git(bare, ['update-ref', `refs/heads/${LEDGER_BRANCH}`, parent]);
    else git(bare, ['update-ref', '-d', `refs/heads/${LEDGER_BRANCH}`]);
    return r.actuation.commit!;
  }

  function ledgerEntries(bare: string): Array<{ kind: string; actuation: { commit: string | null } }> {
    if (gitStatus(bare, ['rev-parse', '--verify', '--quiet', LEDGER_BRANCH]).status !== 0) return [];
    const files = git(bare, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH]).trim().split('\n').filter((f) => f.startsWith('decisions/'));
    return files.map((f) => parseLedgerEntry(git(bare, ['show', `${LEDGER_BRANCH}:${f}`]), f));
  }

  it('act for another diagnosis records the orphaned commit with a Repair entry, once', async () => {
    const bare = freshRepo();
    await act({ diagnosis: diagnosis({ id: 'd-0', incident: 'INC-0', service: 'payments' }), bundle: stubBundle, repo: bare, signer, core: stubCore(), now: '2026-11-21T02:00:00Z' });
    const orphan = await crashedBeforeLedger(bare, 'INC-1');
    expect(ledgerEntries(bare).filter((e) => e.actuation.commit === orphan)).toHaveLength(0);
    await act({ diagnosis: diagnosis({ id: 'd-2', incident: 'INC-2', service: 'payments' }), bundle: stubBundle, repo: bare, signer, core: stubCore(), now: '2026-11-21T02:20:00Z' });
    const recorded = ledgerEntries(bare).filter((e) => e.actuation.commit === orphan);
    expect(recorded.map((e) => e.kind)).toEqual(['Repair']);
    await act({ diagnosis: diagnosis({ id: 'd-3', incident: 'INC-3', service: 'payments' }), bundle: stubBundle, repo: bare, signer, core: stubCore(), now: '2026-11-21T02:30:00Z' });
    expect(ledgerEntries(bare).filter((e) => e.actuation.commit === orphan)).toHaveLength(1);
    // the same diagnosis again finds the repaired commit in the ledger: nothing is carried out twice
    const main = git(bare, ['rev-parse', 'main']).trim();
    const again = await act({ diagnosis: diagnosis({ id: 'd-INC-1', incident: 'INC-1' }), bundle: stubBundle, repo: bare, signer, core: stubCore(), now: '2026-11-21T02:13:00Z' });
    expect(again.actuation).toMatchObject({ repeated: true, foundIn: 'ledger', commit: orphan });
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(main);
  });

  it('reconcile repairs at its start', async () => {
    const bare = freshRepo();
    const orphan = await crashedBeforeLedger(bare, 'INC-9');
    await reconcile({ repo: bare, now: '2026-11-21T03:00:00Z', signer });
    expect(ledgerEntries(bare).filter((e) => e.actuation.commit === orphan).map((e) => e.kind)).toEqual(['Repair']);
  });
});

describe('one error hierarchy, one mapping per edge', () => {
  const cases = [
    { err: new InputError('must be a number', 'hypotheses[0].confidence'), exit: 2, status: 400 },
    { err: new TransientError('the remote did not answer', { retryAfterSeconds: 7 }), exit: 75, status: 503 },
    { err: new ConcurrentUpdateError('main', 'expected a, found b'), exit: 75, status: 503 },
    { err: new InternalError('object x is corrupt'), exit: 1, status: 500 },
    { err: new Error('anything else'), exit: 1, status: 500 },
  ];
  it.each(cases)('$err.name → exit $exit, HTTP $status', ({ err, exit, status }) => {
    expect(exitCodeOf(err)).toBe(exit);
    expect(errorResponse(err).status).toBe(status);
  });

  it('503 carries Retry-After; a repository field is the server\'s problem (503), not the request\'s', () => {
    expect(errorResponse(new TransientError('busy', { retryAfterSeconds: 7 })).headers['retry-after']).toBe('7');
    expect(errorResponse(new InputError('does not exist', 'branch')).status).toBe(503);
  });

  it('the CLI names the flag for a library field; the library message does not', () => {
    const err = new InputError('is not a Git repository', 'repo');
    expect(err.message).toBe('repo: is not a Git repository');
    expect(describeError(err)).toBe('--repo: is not a Git repository');
    expect(EXIT_CODES.transient).toBe(75);
  });

  it('an unknown forge id is refused naming the ones there are', () => {
    expect(() => createForge('bitbucket', { url: 'http://127.0.0.1:1', repo: 'a/b' })).toThrow(/forge: must be one of github, gitlab$/);
  });
});

describe('backoff', () => {
  it('grows exponentially to a cap, with jitter in [0.5, 1.5) of the step', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const step = Math.min(2000, 50 * 2 ** attempt);
        const wait = backoffMs(attempt, () => r);
        return wait >= Math.floor(step * 0.5) && wait <= Math.ceil(step * 1.5);
      }),
    );
  });
});

describe('the ledger is a closed, versioned type', () => {
  const base = { apiVersion: 'arbiter.dev/v1', id: 'x.verification', decision: 'x', incident: 'INC-1', target: { service: 's', namespace: 'n' }, at: '2026-11-21T02:00:00Z', detail: 'd', actuation: { commit: null, branch: null, pullRequest: null } };
  it('accepts every kind it knows', () => {
    expect(parseLedgerEntry(JSON.stringify({ ...base, kind: 'Verification', outcome: 'recovered' }), 'p').kind).toBe('Verification');
  });
  it.each([
    ['an unknown kind', { ...base, kind: 'Whatever', outcome: 'recovered' }],
    ['another version', { ...base, apiVersion: 'arbiter.dev/v2', kind: 'Verification', outcome: 'recovered' }],
    ['an outcome the kind does not have', { ...base, kind: 'Compensation', outcome: 'recovered' }],
    ['an extra field', { ...base, kind: 'Verification', outcome: 'recovered', injected: true }],
  ])('refuses %s, naming the file', (_what, value) => {
    expect(() => parseLedgerEntry(JSON.stringify(value), 'decisions/2026/11/21/x.json')).toThrow(/decisions\/2026\/11\/21\/x\.json/);
  });
});
