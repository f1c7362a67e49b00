// Reads what `act` left in the bare repository, with stock git: refs, changed files, contents, trailers,
// signatures (`git verify-commit`), the ledger entry, and whether Kustomize trees still render.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { gitIn } from './seed.ts';

const run = promisify(execFile);

export { LEDGER_BRANCH } from '../../gitops/ledger.ts';

export async function branchTips(gitDir: string): Promise<Record<string, string>> {
  const out = await gitIn(gitDir, ['for-each-ref', '--format=%(refname:lstrip=2) %(objectname)', 'refs/heads']);
  const tips: Record<string, string> = {};
  for (const line of out.split('\n').filter(Boolean)) {
    const [name, oid] = line.split(' ');
    tips[name!] = oid!;
  }
  return tips;
}

/** Files that differ between two commits (no rename detection: a rename is a delete and an add). */
export async function changedBetween(gitDir: string, from: string, to: string): Promise<string[]> {
  if (from === to) return [];
  const out = await gitIn(gitDir, ['diff-tree', '-r', '--name-only', '--no-renames', '--no-commit-id', from, to]);
  return out.split('\n').filter(Boolean).sort();
}

export async function readAt(gitDir: string, oid: string, path: string): Promise<string | undefined> {
  try {
    return await gitIn(gitDir, ['show', `${oid}:${path}`]);
  } catch {
    return undefined;
  }
}

export async function commitMessage(gitDir: string, oid: string): Promise<string> {
  return gitIn(gitDir, ['log', '-1', '--format=%B', oid]);
}

/** Trailers as `git interpret-trailers --parse` reads them. */
export async function commitTrailers(gitDir: string, oid: string): Promise<Record<string, string>> {
  const parsed = await gitIn(gitDir, ['interpret-trailers', '--parse'], { input: await commitMessage(gitDir, oid) });
  const trailers: Record<string, string> = {};
  for (const line of parsed.split('\n')) {
    const m = /^([^:]+):\s?(.*)$/.exec(line);
    if (m) trailers[m[1]!] = m[2]!;
  }
  return trailers;
}

/** `git verify-commit` with the allowed-signers file; returns git's own words when it fails. */
export async function verifyCommit(gitDir: string, oid: string, allowedSignersFile: string): Promise<{ ok: boolean; detail: string }> {
  try {
    const { stderr } = await run('git', ['--git-dir', gitDir, '-c', 'gpg.format=ssh', '-c', `gpg.ssh.allowedSignersFile=${allowedSignersFile}`, 'verify-commit', '-v', oid], {
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    });
    return { ok: true, detail: stderr.split('\n').find((l) => l.startsWith('Good')) ?? 'signature verified' };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const lines = (e.stderr ?? e.message).split('\n').filter(Boolean);
    return { ok: false, detail: lines.find((l) => /signature|error|fatal/i.test(l)) ?? lines[0] ?? 'verification failed' };
  }
}

/** The ledger path of a decision: `decisions/YYYY/MM/DD/<decision-id>.json` (date of `decidedAt`, UTC). */
export function ledgerPath(decisionId: string, decidedAt: string): string {
  const d = new Date(decidedAt);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `decisions/${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${decisionId}.json`;
}

/** Kustomization directories under the top-level directories (`apps/<service>/`) of the changed files. */
async function kustomizationDirs(root: string, prefixes: string[]): Promise<string[]> {
  const found: string[] = [];
  async function walk(rel: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.isFile() && /^kustomization\.ya?ml$|^Kustomization$/.test(e.name))) found.push(rel);
    for (const e of entries) if (e.isDirectory()) await walk(posix.join(rel, e.name));
  }
  for (const prefix of prefixes) await walk(prefix);
  return found.sort();
}

export interface RenderResult {
  rendered: string[];
  failures: Array<{ dir: string; error: string }>;
  skipped?: string;
}

/** Runs `kubectl kustomize` on every kustomization near the changed files at commit `oid`. */
export async function checkRenders(gitDir: string, oid: string, changed: string[]): Promise<RenderResult> {
  const prefixes = [...new Set(changed.map((p) => p.split('/').slice(0, 2).join('/')).filter((p) => p.includes('/')))];
  if (prefixes.length === 0) return { rendered: [], failures: [] };
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-render-'));
  try {
    const archive = join(dir, 'tree.tar');
    await gitIn(gitDir, ['archive', '--format=tar', '-o', archive, oid]);
    await run('tar', ['-xf', archive, '-C', dir]);
    const roots = [];
    for (const p of prefixes) if (await stat(join(dir, p)).then((s) => s.isDirectory(), () => false)) roots.push(p);
    const dirs = await kustomizationDirs(dir, roots);
    if (dirs.length === 0) return { rendered: [], failures: [] };
    const result: RenderResult = { rendered: [], failures: [] };
    for (const d of dirs) {
      try {
        await run('kubectl', ['kustomize', join(dir, d)], { maxBuffer: 16 * 1024 * 1024 });
        result.rendered.push(d);
      } catch (err) {
        const e = err as { code?: string; stderr?: string; message: string };
        if (e.code === 'ENOENT') return { rendered: [], failures: [], skipped: 'kubectl not found on PATH' };
        const line = (e.stderr ?? e.message).split('\n').find(Boolean) ?? 'render failed';
        // kubectl prefixes its error with a klog header: keep only the message.
        const message = /err="(.*)"\s*$/.exec(line)?.[1]?.replace(/\\"/g, '"') ?? line;
        result.failures.push({ dir: d, error: message });
      }
    }
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
