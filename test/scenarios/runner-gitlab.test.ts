// `arbiter scenarios run --forge gitlab`: the pull-request scenarios pass with merge requests opened on the loopback
// GitLab stand-in (REST API v4), a wrong pull-request expectation fails against what GitLab recorded, and a forge the
// runner does not know is exit 2.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { GitLabForge } from '../../gitops/forge/gitlab.ts';
import { startLoopback } from '../../scenarios/runner/actuate.ts';
import { seedBareRepository } from '../support/git.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/arbiter');

function arbiter(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ARBITER_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'arbiter-scenarios-gitlab-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The library's scenarios that expect an open pull request. */
const PULL_REQUEST_SCENARIOS = readdirSync(join(ROOT, 'scenarios'))
  .filter((f) => f.endsWith('.yaml'))
  .filter((f) => {
    const doc = parse(readFileSync(join(ROOT, 'scenarios', f), 'utf8')) as { expect?: { pullRequest?: unknown } };
    return doc.expect?.pullRequest !== undefined && doc.expect.pullRequest !== null;
  })
  .sort();

describe('arbiter scenarios run --forge gitlab', () => {
  it('passes every pull-request scenario (critical-service-pull-request among them) on the GitLab stand-in', async () => {
    expect(PULL_REQUEST_SCENARIOS).toContain('critical-service-pull-request.yaml');
    expect(PULL_REQUEST_SCENARIOS.length).toBeGreaterThanOrEqual(4);
    const r = await arbiter(['scenarios', 'run', ...PULL_REQUEST_SCENARIOS.map((f) => join('scenarios', f)), '--forge', 'gitlab', '--reporter', 'json']);
    const report = JSON.parse(r.stdout) as { scenarios: Array<{ name: string; status: string; diff?: string }>; summary: { total: number; failed: number } };
    expect(report.scenarios.filter((s) => s.status !== 'pass').map((s) => `${s.name}\n${s.diff}`)).toEqual([]);
    expect(report.summary).toEqual(expect.objectContaining({ total: PULL_REQUEST_SCENARIOS.length, failed: 0 }));
    expect(r.code).toBe(0);
  }, 180_000);

  it('a wrong reviewer expectation fails with the reviewers GitLab recorded', async () => {
    const doc = parse(readFileSync(join(ROOT, 'scenarios/critical-service-pull-request.yaml'), 'utf8')) as Record<string, any>;
    doc.bundle = join(ROOT, 'policies/remediation');
    doc.repo = join(ROOT, 'scenarios/fixtures/shop');
    doc.expect.pullRequest.reviewers = ['team-payments', 'nobody'];
    const file = join(dir, 'wrong-reviewers.yaml');
    writeFileSync(file, stringify(doc));
    const r = await arbiter(['scenarios', 'run', file, '--forge', 'gitlab', '--reporter', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { scenarios: Array<{ diff: string }> };
    expect(report.scenarios[0]!.diff).toContain('pullRequest.reviewers');
    expect(report.scenarios[0]!.diff).toContain('nobody');
  }, 60_000);

  it('an unknown forge is exit 2 naming --forge', async () => {
    const r = await arbiter(['scenarios', 'run', 'scenarios/critical-service-pull-request.yaml', '--forge', 'bitbucket']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--forge: must be one of github, gitlab');
    expect(r.stdout).toBe('');
  });

  it('the runner hands act a GitLab forge speaking to the stand-in', async () => {
    const root = join(dir, 'repos');
    seedBareRepository(join(root, 'x.git'), [{ message: 'seed', files: { 'a.txt': 'a\n' } }]);
    const loopback = await startLoopback(root, 'gitlab');
    try {
      const forge = await loopback.startForge('x', join(root, 'x.git'));
      try {
        expect(forge.forge).toBeInstanceOf(GitLabForge);
        const opened = await forge.forge.openOrUpdatePullRequest({ branch: 'main', base: 'main', title: 'T', body: 'B', labels: ['l1', 'l2'], reviewers: ['sre-oncall'], idempotencyKey: 'sha256:k' });
        expect(opened.url).toBe('https://gitlab.invalid/shop/x/-/merge_requests/1');
        expect(await forge.pullRequests()).toEqual([{ number: 1, title: 'T', body: 'B', head: 'main', base: 'main', labels: ['l1', 'l2'], reviewers: ['sre-oncall'], state: 'open' }]);
      } finally {
        await forge.close();
      }
    } finally {
      await loopback.close();
    }
  });
});
