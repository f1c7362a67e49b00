// kill -9 of `arbiter act` (issue 10 item 8): at each named point of the write transaction (ARBITER_FAULT_POINT)
// and after random delays, on a local bare repository and over loopback smart HTTP. After every kill: `git fsck`
// is clean, the next run finishes (no lock blocks it), the change lands exactly once and the ledger records it.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.ts';
import { filesOf, git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';

const tmp = tempDir();
const key = sshTestKey(tmp.path);
const SHOP = filesOf('scenarios/fixtures/shop');
const MEMLEAK = 'policies/remediation/examples/memory-leak-off-hours.yaml';
const POINTS = ['objects-written', 'branch-moved', 'ledger-appended'] as const;
let server: GitHttpServer;
let n = 0;
const tally = { faults: 0, lost: 0, duplicated: 0 };

beforeAll(async () => {
  server = await startGitHttpServer({ root: `${tmp.path}/srv` });
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
  process.stdout.write(`fault injection: ${tally.faults} kills, ${tally.lost} decisions lost, ${tally.duplicated} landed twice\n`);
});

function act(repo: string, cache: string, env: Record<string, string> = {}, killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/arbiter', 'act', '--diagnosis', MEMLEAK, '--repo', repo, '--signing-key', key.privateKeyFile, '--now', '2026-11-21T02:13:00Z', '--cache-dir', cache, '--json'], {
      env: { ...process.env, ...env },
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

function shop(): { bare: string; url: string; cache: string } {
  const name = `shop-${n++}.git`;
  const bare = `${tmp.path}/srv/${name}`;
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: SHOP }]);
  return { bare, url: server.repoUrl(name), cache: `${tmp.path}/cache-${n}` };
}

/** Arbiter commits on main, and ledger entries pointing at each. */
function landed(bare: string): { commits: string[]; entriesFor: (commit: string) => number } {
  const commits = git(bare, ['log', '--format=%H%x00%B%x01', 'main'])
    .split('\x01')
    .filter((c) => c.includes('Arbiter-Idempotency-Key:'))
    .map((c) => c.trim().split('\0')[0]!);
  const hasLedger = gitStatus(bare, ['rev-parse', '--verify', '--quiet', LEDGER_BRANCH]).status === 0;
  const files = hasLedger ? git(bare, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH]).trim().split('\n').filter((f) => f.startsWith('decisions/')) : [];
  const pointers = files.map((f) => (JSON.parse(git(bare, ['show', `${LEDGER_BRANCH}:${f}`])) as { actuation: { commit: string | null } }).actuation.commit);
  return { commits, entriesFor: (commit) => pointers.filter((p) => p === commit).length };
}

function checkExactlyOnce(bare: string): void {
  expect(gitStatus(bare, ['fsck', '--full', '--strict']).status).toBe(0);
  const { commits, entriesFor } = landed(bare);
  if (commits.length === 0) tally.lost++;
  if (commits.length > 1) tally.duplicated++;
  expect(commits).toHaveLength(1);
  expect(entriesFor(commits[0]!)).toBe(1);
}

describe.each([
  ['a local bare repository', (s: ReturnType<typeof shop>) => s.bare],
  ['loopback smart HTTP', (s: ReturnType<typeof shop>) => s.url],
])('kill -9 of act on %s', (_where, location) => {
  it.each(POINTS)('at %s: fsck is clean and the next run lands the change exactly once', async (point) => {
    const s = shop();
    const killed = await act(location(s), s.cache, { ARBITER_FAULT_POINT: point });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    tally.faults++;
    expect(gitStatus(s.bare, ['fsck', '--full', '--strict']).status).toBe(0);
    const next = await act(location(s), s.cache);
    expect(next.code, next.stderr).toBe(0);
    checkExactlyOnce(s.bare);
  });

  it('after random delays: every kill leaves a state the next run completes', async () => {
    const s = shop();
    for (const delay of [150, 600, 1200, 2000, 3000].map((d) => Math.round(d * (0.5 + Math.random())))) {
      const killed = await act(location(s), s.cache, {}, delay);
      if (killed.signal === 'SIGKILL') tally.faults++;
      expect(gitStatus(s.bare, ['fsck', '--full', '--strict']).status).toBe(0);
    }
    const last = await act(location(s), s.cache);
    expect(last.code, last.stderr).toBe(0);
    checkExactlyOnce(s.bare);
  });
});
