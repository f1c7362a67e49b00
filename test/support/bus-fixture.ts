// What the bus tests and the scale bench share: R GitOps repositories (the shop fixture) behind one real
// `git http-backend`, serve configs naming a NATS bus, numbered diagnoses, and the ledger read back with stock git.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DEFAULT_BUNDLE } from '../../app/bundle.ts';
import { loadDecisionCore } from '../../app/core.ts';
import type { Diagnosis } from '../../engine/types.ts';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { loadServeConfig, type ServeConfig } from '../../serve/config.ts';
import { serverDeps, type ServerDeps } from '../../serve/deps.ts';
import { startGitHttpServer, type GitHttpServer } from './git-http.ts';
import { filesOf, seedBareRepository, tempDir } from './git.ts';
import { sshTestKey } from './keys.ts';

const SHOP = fileURLToPath(new URL('../fixtures/repos/shop', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../policies/remediation/examples/memory-leak-off-hours.yaml', import.meta.url));

export interface LedgerDecision {
  id: string;
  incident: string;
  idempotencyKey: string;
  mode: string;
}

export interface BusFixture {
  dir: string;
  http: GitHttpServer;
  repos: Array<{ name: string; bare: string; url: string }>;
  /** A serve config for repository `r` on the bus at `natsUrl`; `cache` names the worker's own Git cache. */
  config(r: number, natsUrl: string, options?: { cache?: string; ackWait?: string; dedupeWindow?: string; concurrency?: number }): { file: string; config: ServeConfig };
  /** Diagnosis `n` for repository `r`: its own incident, so its own fingerprint and idempotency key. */
  diagnosis(r: number, n: number, overrides?: { incident?: string; id?: string }): Diagnosis;
  /** Shared server dependencies (one decision core, decisions in process, unsigned-by-nobody: the test key signs). */
  deps(config: ServeConfig): Promise<ServerDeps>;
  /** The Decision entries on repository `r`'s ledger, oldest first. */
  ledger(r: number): LedgerDecision[];
  /** How many entries repository `r`'s ledger has (one commit each): cheap enough to poll. */
  ledgerCount(r: number): number;
  /** Commits on repository `r`'s main branch made by arbiter (subject lines), oldest first. */
  actuations(r: number): string[];
  cleanup(): Promise<void>;
}

export async function busFixture(repoCount: number): Promise<BusFixture> {
  const tmp = tempDir('arbiter-bus-');
  const key = sshTestKey(tmp.path);
  const files = filesOf(SHOP);
  const root = `${tmp.path}/git`;
  const repos: BusFixture['repos'] = [];
  const http = await startGitHttpServer({ root });
  for (let r = 0; r < repoCount; r++) {
    const name = `gitops-${r}.git`;
    seedBareRepository(`${root}/${name}`, [{ message: 'initial GitOps tree', files }]);
    repos.push({ name, bare: `${root}/${name}`, url: http.repoUrl(name) });
  }
  const example = parse(readFileSync(EXAMPLE, 'utf8')) as Diagnosis;
  const core = await loadDecisionCore();
  const bundle = await core.loadBundle(DEFAULT_BUNDLE);
  let configs = 0;

  const git = (bare: string, args: string[]): string => execFileSync('git', args, { cwd: bare, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });

  return {
    dir: tmp.path,
    http,
    repos,
    config(r, natsUrl, options = {}) {
      const file = `${tmp.path}/serve-${r}-${configs++}.yaml`;
      const queue = { kind: 'nats', url: natsUrl, ackWait: options.ackWait ?? '30s', dedupeWindow: options.dedupeWindow ?? '2m', concurrency: options.concurrency ?? 1 };
      const lines = [
        'listen: 127.0.0.1:0',
        `repo: ${repos[r]!.url}`,
        `signing: { key: ${key.privateKeyFile} }`,
        `cacheDir: ${tmp.path}/cache-${options.cache ?? 'shared'}`,
        'notifier: { kind: none }',
        'reconcile: { interval: 0s }',
        'verification: { enabled: false }',
        `queue: ${JSON.stringify(queue)}`,
      ];
      writeFileSync(file, `${lines.join('\n')}\n`);
      return { file, config: loadServeConfig(file) };
    },
    diagnosis(r, n, overrides = {}) {
      const minute = String(n % 60).padStart(2, '0');
      return {
        ...example,
        id: overrides.id ?? `diag-r${r}-${n}`,
        incident: overrides.incident ?? `INC-R${r}-${String(n).padStart(4, '0')}`,
        observedAt: `2026-11-21T02:${minute}:00Z`,
      };
    },
    deps: (config) => serverDeps(config, { core, bundle, log: () => undefined }),
    ledger(r) {
      const bare = repos[r]!.bare;
      let tip: string;
      try {
        tip = git(bare, ['rev-parse', '--verify', '-q', LEDGER_BRANCH]).trim();
      } catch {
        return [];
      }
      // oldest first: the order entries were appended
      const paths: string[] = [];
      for (const oid of git(bare, ['rev-list', '--reverse', tip]).split('\n').filter(Boolean)) {
        for (const p of git(bare, ['diff-tree', '--no-commit-id', '--name-only', '--diff-filter=A', '-r', '--root', oid]).split('\n')) {
          if (/^decisions\/.*\.json$/.test(p)) paths.push(p);
        }
      }
      return paths
        .map((p) => JSON.parse(git(bare, ['show', `${tip}:${p}`])) as Record<string, unknown>)
        .filter((e) => e.kind === 'Decision')
        .map((e) => ({ id: String(e.id), incident: String(e.incident), idempotencyKey: String(e.idempotencyKey), mode: String(e.mode) }));
    },
    ledgerCount(r) {
      try {
        return Number(git(repos[r]!.bare, ['rev-list', '--count', LEDGER_BRANCH]).trim());
      } catch {
        return 0;
      }
    },
    actuations(r) {
      return git(repos[r]!.bare, ['log', '--reverse', '--format=%s', 'main']).split('\n').filter((s) => s && s !== 'initial GitOps tree');
    },
    async cleanup() {
      await http.close();
      tmp.cleanup();
    },
  };
}

/** Waits until `done()` is true, checking every `everyMs`; throws with `what` after `timeoutMs` (a bound, not a timed assertion). */
export async function until(done: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
