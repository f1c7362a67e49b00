// Concurrent writers all land (issue 10 item 5): 10 `arbiter act` processes with separate caches on one repository
// over loopback smart HTTP. Races are retried for a time window with backoff and jitter, not a small count: every
// process exits 0 and every decision has exactly one ledger entry.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.ts';
import { filesOf, git, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';

const tmp = tempDir();
const key = sshTestKey(tmp.path);
const WRITERS = 10;
let server: GitHttpServer;

beforeAll(async () => {
  server = await startGitHttpServer({ root: `${tmp.path}/srv` });
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
});

/** Incident i on cart: each is its own incident, so each has its own idempotency key. */
function diagnosisFile(i: number): string {
  const file = `${tmp.path}/diagnosis-${i}.yaml`;
  writeFileSync(
    file,
    `apiVersion: arbiter.dev/v1
kind: Diagnosis
id: diag-cart-${i}
incident: INC-${7000 + i}
observedAt: 2026-11-21T02:13:00Z
target: { service: cart, namespace: shop, environment: production }
hypotheses:
  - cause: memory-leak
    confidence: 0.91
    evidence: [working set grew linearly for 6h]
    subject: { kind: Deployment, name: cart, namespace: shop }
`,
  );
  return file;
}

function act(url: string, i: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/arbiter', 'act', '--diagnosis', diagnosisFile(i), '--repo', url, '--signing-key', key.privateKeyFile, '--now', '2026-11-21T02:13:00Z', '--cache-dir', `${tmp.path}/cache-${i}`, '--json']);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('concurrent writers', () => {
  it(`${WRITERS} act processes with separate caches over smart HTTP all land, each with exactly one ledger entry`, { timeout: 300_000 }, async () => {
    const bare = `${tmp.path}/srv/shop.git`;
    seedBareRepository(bare, [{ message: 'initial GitOps tree', files: filesOf('scenarios/fixtures/shop') }]);
    const results = await Promise.all(Array.from({ length: WRITERS }, (_, i) => act(server.repoUrl('shop.git'), i)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const decisions = results.map((r) => JSON.parse(r.stdout).decision.id as string);
    expect(new Set(decisions).size).toBe(WRITERS);
    const files = git(bare, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH]).trim().split('\n').filter((f) => f.startsWith('decisions/'));
    const entries = files.map((f) => JSON.parse(git(bare, ['show', `${LEDGER_BRANCH}:${f}`])) as { kind: string; id: string; actuation: { commit: string | null; branch: string | null } });
    for (const id of decisions) expect(entries.filter((e) => e.kind === 'Decision' && e.id === id)).toHaveLength(1);
    // every actuation the ledger records is on the branch it names
    for (const e of entries.filter((x) => x.actuation.commit)) {
      expect(git(bare, ['merge-base', '--is-ancestor', e.actuation.commit!, e.actuation.branch!]).trim()).toBe('');
    }
    expect(git(bare, ['log', '--format=%H', LEDGER_BRANCH]).trim().split('\n')).toHaveLength(WRITERS);
  });
});
