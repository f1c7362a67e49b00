// e2e: the loop the mission is about, timed from outside. A separate `arbiter serve` process (the compiled bundle,
// the shipped policies) receives REQUESTS diagnoses over loopback HTTP, one after another; each response comes back
// once the signed commit and its ledger entry are pushed to a loopback smart-HTTP remote (stock `git http-backend`).
// The repository holds SERVICES services as plain manifests (no Kustomize, so the render check does not apply; its
// cost is `actuate.renderCheckMs`). Memory leaks observed through a weekend, at most one per service per hour, so
// the shipped bundle restarts each one (auto) and no guardrail turns a request into an escalation.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { git, seedBareRepository } from '../support/git.ts';
import { startGitHttpServer } from '../support/git-http.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REQUESTS = Number(process.env.ARBITER_BENCH_E2E_REQUESTS ?? 200);
const SERVICES = 8;
const WEEKEND_START = Date.parse('2026-11-21T00:00:00Z');
const SPACING_MS = 14 * 60_000;

function repositoryFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  const catalog = ['services:'];
  for (let s = 0; s < SERVICES; s++) {
    const svc = `svc-${s}`;
    catalog.push(`  ${svc}: { namespace: shop, criticality: medium, paths: [apps/${svc}/] }`);
    files[`apps/${svc}/deployment.yaml`] = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${svc}\n  namespace: shop\nspec:\n  replicas: 3\n  template:\n    metadata:\n      labels: { app: ${svc} }\n`;
    files[`apps/${svc}/service.yaml`] = `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${svc}\n  namespace: shop\n`;
  }
  files['.arbiter/catalog.yaml'] = `${catalog.join('\n')}\n`;
  return files;
}

function diagnosis(i: number): string {
  const service = `svc-${i % SERVICES}`;
  return JSON.stringify({
    apiVersion: 'arbiter.dev/v1', kind: 'Diagnosis', id: `e2e-${i}`, incident: `INC-E2E-${i}`,
    observedAt: new Date(WEEKEND_START + i * SPACING_MS).toISOString().replace('.000Z', 'Z'),
    target: { service, namespace: 'shop' },
    signals: { memoryWorkingSetBytes: 1932735283, memoryLimitBytes: 2147483648, restartCount: 0 },
    hypotheses: [{ cause: 'memory-leak', confidence: 0.9, evidence: ['working set grew linearly'], subject: { kind: 'Deployment', name: service, namespace: 'shop' } }],
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

export async function bench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-bench-e2e-'));
  const remotes = join(dir, 'remotes');
  mkdirSync(remotes);
  const bare = join(remotes, 'gitops.git');
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: repositoryFiles() }]);
  const keyFile = join(dir, 'key');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
  const build = spawnSync(process.execPath, ['build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed: ${build.stderr}`);
  const remote = await startGitHttpServer({ root: remotes });
  writeFileSync(join(dir, 'serve.yaml'), `listen: 127.0.0.1:0\nrepo: ${remote.repoUrl('gitops.git')}\nsigning: { key: ${keyFile} }\ncacheDir: ${join(dir, 'cache')}\nnotifier: { kind: none }\nreconcile: { interval: 0s }\n`);
  const server = spawn(process.execPath, [...(process.env.ARBITER_BENCH_SERVE_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.ARBITER_BENCH_SERVE_PROFILE}`] : []), join(ROOT, 'bin/arbiter'), 'serve', '--config', join(dir, 'serve.yaml')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ARBITER_DEBUG: '' } });
  let stderr = '';
  server.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`arbiter serve did not start within 30 s: ${stderr}`)), 30_000);
      createInterface({ input: server.stdout }).once('line', (line) => {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { listening: string }).listening);
      });
      server.once('exit', (code) => reject(new Error(`arbiter serve exited ${code}: ${stderr}`)));
    });
    // one request outside the clock: the server's first fetch of the remote fills its cache
    const samples: number[] = [];
    let start = 0;
    for (let i = 0; i <= REQUESTS; i++) {
      const t0 = performance.now();
      const res = await fetch(`${url}/v1/diagnoses`, { method: 'POST', body: diagnosis(i), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(60_000) });
      const body = (await res.json()) as { decision?: { mode: string }; actuation?: { commit?: string; ledgerCommit?: string } };
      const ms = performance.now() - t0;
      if (res.status !== 200 || body.decision?.mode !== 'auto' || !body.actuation?.commit || !body.actuation.ledgerCommit) {
        throw new Error(`bench: request ${i} was not carried out: ${res.status} ${JSON.stringify(body).slice(0, 500)}`);
      }
      if (i > 0) samples.push(ms);
      else start = performance.now();
    }
    const totalSec = (performance.now() - start) / 1000;
    // every commit and ledger entry reached the remote
    const ledger = Number(git(bare, ['rev-list', '--count', 'arbiter/ledger']).trim());
    const main = Number(git(bare, ['rev-list', '--count', 'main']).trim());
    if (main < REQUESTS + 1 || ledger < REQUESTS + 1) throw new Error(`bench: the remote has ${main} commits on main and ${ledger} ledger entries for ${REQUESTS + 1} requests`);
    samples.sort((a, b) => a - b);
    if (process.env.ARBITER_BENCH_VERBOSE) process.stderr.write(`e2e remote requests: ${remote.requests.length} for ${REQUESTS + 1} diagnoses; last ones: ${remote.requests.slice(-12).map((r) => `${r.method} ${r.path}`).join(', ')}\n`);
    const round1 = (x: number) => Number(x.toFixed(1));
    return { e2e: { requests: REQUESTS, services: SERVICES, p50Ms: round1(pct(samples, 0.5)), p99Ms: round1(pct(samples, 0.99)), perSec: round1(REQUESTS / totalSec) } };
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => (server.exitCode !== null ? resolve(undefined) : server.once('exit', resolve)));
    await remote.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
