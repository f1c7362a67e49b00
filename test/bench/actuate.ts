// Actuation latency on a generated 10,000-file GitOps repository (packed, as a clone would be): arbiter's act
// pipeline at the Git edge (context from Git, idempotency lookup, plan scope read, signed commit, signed ledger
// entry, both refs updated) against stock `git` writing one file and `git commit -S` with an SSH key, same run.
// The decision core is a fixed stand-in here: its own throughput is the `decide` section.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { checkRender } from '../../actions/render.ts';
import { act, type BundleLike, type DecisionCore } from '../../app/act.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import type { Decision, Diagnosis } from '../../engine/types.ts';
import { Catalog, CatalogService } from '../../engine/types.ts';
import { parse } from 'yaml';

const SERVICES = 500;
const FILES_PER_SERVICE = 20;
const RUNS = 9;

const ENV = { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@x', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@x', GIT_CONFIG_NOSYSTEM: '1' };

function sh(cwd: string, cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { cwd, env: ENV, input, encoding: 'utf8', maxBuffer: 1 << 28 });
}

/** A 10,000-file tree: 500 services × (kustomize base, staging and production overlays, configs). */
export function generateRepository(bare: string): number {
  sh(tmpdir(), 'git', ['init', '-q', '--bare', '-b', 'main', bare]);
  const files: Array<[string, string]> = [];
  const catalog: string[] = ['services:'];
  for (let s = 0; s < SERVICES; s++) {
    const svc = `svc-${String(s).padStart(3, '0')}`;
    catalog.push(`  ${svc}:\n    namespace: team-${s % 20}\n    paths: [apps/${svc}/]`);
    files.push([`apps/${svc}/base/deployment.yaml`, `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${svc}\nspec:\n  replicas: 3\n  template:\n    metadata:\n      annotations: {}\n`]);
    files.push([`apps/${svc}/base/kustomization.yaml`, 'resources: [deployment.yaml]\n']);
    for (let f = 2; f < FILES_PER_SERVICE; f++) {
      const env = f % 2 ? 'staging' : 'production';
      files.push([`apps/${svc}/overlays/${env}/config-${f}.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${svc}-${f}\ndata:\n  key: "${f}"\n`]);
    }
  }
  files.push(['.arbiter/catalog.yaml', `${catalog.join('\n')}\n`]);
  // fast-import: `data <n>` is followed by exactly n bytes; a blank line would end the commit
  let stream = 'commit refs/heads/main\ncommitter bench <bench@x> 1763690000 +0000\ndata 4\ninit\n';
  for (const [path, content] of files) stream += `M 100644 inline ${path}\ndata ${Buffer.byteLength(content)}\n${content}`;
  sh(bare, 'git', ['fast-import', '--quiet'], `${stream}\n`);
  return files.length;
}

export const bundle: BundleLike = { revision: 'bench', digest: 'sha256:bench', settings: { guardrails: { circuitCooldownMinutes: 30 } }, data: {} };

/** A fixed decision: restart the service, auto mode; the plan stamps one annotation in its base deployment. */
export function benchCore(run: number): DecisionCore {
  return {
    parseDiagnosis: (t) => JSON.parse(t) as Diagnosis,
    parseContextOverride: (t) => JSON.parse(t),
    loadBundle: async () => bundle,
    parseCatalog: (t) => Catalog.parse(parse(t)),
    parseCalendar: (t) => parse(t),
    assembleContext: ({ diagnosis, now, catalog, history, killSwitch }) => ({
      context: {
        now,
        service: { name: diagnosis.target.service, criticality: 'medium', owners: [] },
        calendar: { businessHours: false, maintenanceWindow: false, changeFreeze: false, peakEvent: null },
        history: history ?? { incidentActions: 0, serviceActionsLastHour: 0, circuitOpen: false },
        killSwitch: killSwitch ?? false,
      },
      service: catalog?.services[diagnosis.target.service] ?? CatalogService.parse({}),
      known: catalog?.services[diagnosis.target.service] !== undefined,
    }),
    decide: ({ diagnosis, context }) => {
      const target = { service: diagnosis.target.service, namespace: 'team-1' };
      const action = { kind: 'restart' as const, target, params: {} };
      return {
        apiVersion: 'arbiter.dev/v1', kind: 'Decision', id: `dec-bench-${run}`, idempotencyKey: `sha256:${String(run).padStart(64, '0')}`,
        incident: diagnosis.incident, diagnosis: diagnosis.id, decidedAt: context.now, mode: 'auto', action, support: 0.9, target,
        candidates: [], resolution: { combine: 'priority', select: 'cost', winner: 'restart', overruled: [] }, guardrails: [],
        bundle: { revision: 'bench', digest: 'sha256:bench' }, rationale: ['bench'],
      } satisfies Decision;
    },
    planAction: async ({ tree, action, context }) => {
      const path = `apps/${action.target.service}/base/deployment.yaml`;
      const before = tree.read(path)!;
      return { edits: [{ path, before, after: before.replace('annotations: {}', `annotations: { arbiter.dev/restartedAt: "${context.now}" }`) }], notes: [], applied: action };
    },
    getAction: () => ({ kind: 'restart', params: undefined as never, risk: 'low', describe: () => 'restart', plan: async () => { throw new Error('unused'); }, compensate: () => [], verification: { metric: 'errorRate', direction: 'decrease', window: '10m' } }),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function bench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-bench-actuate-'));
  try {
    const bare = join(dir, 'gitops.git');
    const files = generateRepository(bare);
    const keyFile = join(dir, 'key');
    sh(dir, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    const signer = sshSigner(readFileSync(keyFile, 'utf8'));

    // stock git: a work tree clone with the index built; each run writes one file and makes a signed commit
    const work = join(dir, 'work');
    sh(dir, 'git', ['clone', '-q', bare, work]);
    sh(work, 'git', ['config', 'gpg.format', 'ssh']);
    sh(work, 'git', ['config', 'user.signingkey', keyFile]);

    const arbiterMs: number[] = [];
    const gitCliMs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const service = `svc-${String(run * 37).padStart(3, '0')}`;
      const diagnosis = { apiVersion: 'arbiter.dev/v1', kind: 'Diagnosis', id: `bench-${run}`, incident: `INC-${run}`, observedAt: '2026-11-21T02:00:00Z', target: { service }, hypotheses: [{ cause: 'memory-leak', confidence: 0.9 }] } as Diagnosis;
      const t0 = performance.now();
      // the stock git side renders nothing, so the kubectl render check (a separate process, `renderCheckMs`) is left out
      const result = await act({ diagnosis, bundle, repo: bare, signer, core: benchCore(run), now: `2026-11-21T02:0${run}:00Z`, kubectl: '' });
      arbiterMs.push(performance.now() - t0);
      if (!result.actuation.commit || !result.actuation.ledgerCommit) throw new Error('bench: arbiter did not commit');

      const file = join(work, 'apps', service, 'base', 'deployment.yaml');
      const t1 = performance.now();
      writeFileSync(file, `${readFileSync(file, 'utf8')}# restarted ${run}\n`);
      sh(work, 'git', ['add', '--', file]);
      sh(work, 'git', ['commit', '-q', '-S', '-m', `restart ${service}`]);
      gitCliMs.push(performance.now() - t1);
    }
    const cold = coldRuns(dir, bare, keyFile, work);
    const a = median(arbiterMs);
    const g = median(gitCliMs);
    const renderCheckMs = await timeRenderCheck();
    if (process.env.ARBITER_BENCH_VERBOSE) process.stderr.write(`actuate runs: arbiter ${arbiterMs.map((x) => x.toFixed(0)).join(" ")} / git ${gitCliMs.map((x) => x.toFixed(0)).join(" ")}\n`);
    return { actuate: { files, runs: RUNS, arbiterMs: Number(a.toFixed(1)), gitCliMs: Number(g.toFixed(1)), ratio: Number((a / g).toFixed(3)), ...cold, renderCheckMs: Number(renderCheckMs.toFixed(1)) } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Cold: a fresh `arbiter act` process (the compiled bundle, the shipped bundle's real decision core, catalog read
 * from the repository) against fresh `git add` + `git commit -S` processes, interleaved, RUNS pairs, medians. The
 * render check is skipped on the arbiter side (ARBITER_KUBECTL=''), as in the warm figure: git renders nothing.
 */
function coldRuns(dir: string, bare: string, keyFile: string, work: string): { coldArbiterMs: number; coldGitCliMs: number; coldRatio: number } {
  const build = spawnSync(process.execPath, ['build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed: ${build.stderr}`);
  const arbiterMs: number[] = [];
  const gitCliMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const service = `svc-${String(250 + run * 23).padStart(3, '0')}`;
    const file = join(dir, `cold-${run}.json`);
    writeFileSync(file, JSON.stringify({ apiVersion: 'arbiter.dev/v1', kind: 'Diagnosis', id: `cold-${run}`, incident: `INC-COLD-${run}`, observedAt: `2026-11-21T02:1${run}:00Z`, target: { service }, hypotheses: [{ cause: 'memory-leak', confidence: 0.9, subject: { kind: 'Deployment', name: service } }] }));
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/arbiter'), 'act', '--diagnosis', file, '--repo', bare, '--signing-key', keyFile, '--json'], { cwd: dir, env: { ...ENV, ARBITER_KUBECTL: '', ARBITER_DEBUG: '' }, encoding: 'utf8' });
    arbiterMs.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`bench: arbiter act exited ${r.status}: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { decision: Decision; actuation: { commit?: string; ledgerCommit?: string } };
    if (out.decision.mode !== 'auto' || !out.actuation.commit || !out.actuation.ledgerCommit) throw new Error(`bench: cold arbiter act did not commit: ${r.stdout}`);

    const manifest = join(work, 'apps', service, 'base', 'deployment.yaml');
    const t1 = performance.now();
    writeFileSync(manifest, `${readFileSync(manifest, 'utf8')}# restarted cold ${run}\n`);
    sh(work, 'git', ['add', '--', manifest]);
    sh(work, 'git', ['commit', '-q', '-S', '-m', `restart ${service}`]);
    gitCliMs.push(performance.now() - t1);
  }
  if (process.env.ARBITER_BENCH_VERBOSE) process.stderr.write(`actuate cold runs: arbiter ${arbiterMs.map((x) => x.toFixed(0)).join(' ')} / git ${gitCliMs.map((x) => x.toFixed(0)).join(' ')}\n`);
  const a = median(arbiterMs);
  const g = median(gitCliMs);
  return { coldArbiterMs: Number(a.toFixed(1)), coldGitCliMs: Number(g.toFixed(1)), coldRatio: Number((a / g).toFixed(3)) };
}

/** What `act` adds on Kustomize trees: `kubectl kustomize` on the edited service (one small base, median of 3). */
async function timeRenderCheck(): Promise<number> {
  const files = new Map([
    ['apps/svc/base/kustomization.yaml', 'resources: [deployment.yaml]\n'],
    ['apps/svc/base/deployment.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: svc }\nspec:\n  template:\n    metadata: { annotations: {} }\n'],
  ]);
  const tree = { read: (p: string) => files.get(p), list: (prefix = '') => [...files.keys()].filter((f) => f.startsWith(prefix)).sort() };
  const edit = { path: 'apps/svc/base/deployment.yaml', before: files.get('apps/svc/base/deployment.yaml')!, after: files.get('apps/svc/base/deployment.yaml')!.replace('{}', '{ a: b }') };
  const service = Catalog.parse({ services: { svc: { paths: ['apps/svc/'] } } }).services.svc!;
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await checkRender(tree, [edit], service);
    times.push(performance.now() - t0);
  }
  return median(times);
}
