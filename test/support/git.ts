// Shared test helpers around the stock `git` CLI: temporary repositories and commands whose output tests check.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const IDENTITY = {
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** Runs `git args` in `cwd` and returns stdout; throws with stderr on a non-zero exit. */
export function git(cwd: string, args: string[], options: { env?: Record<string, string>; input?: string } = {}): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...IDENTITY, ...options.env }, input: options.input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Like `git` but returns the exit status and both streams instead of throwing. */
export function gitStatus(cwd: string, args: string[], options: { env?: Record<string, string> } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('git', args, { cwd, env: { ...process.env, ...IDENTITY, ...options.env }, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A temporary directory removed by the returned `cleanup`. */
export function tempDir(prefix = 'arbiter-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Creates a bare repository at `bare` whose `branch` has one commit per entry of `commits` (files: path → content,
 * null deletes). Returns the tip oid.
 */
export function seedBareRepository(bare: string, commits: Array<{ message: string; files: Record<string, string | null> }>, branch = 'main'): string {
  mkdirSync(bare, { recursive: true });
  git(bare, ['init', '-q', '--bare', '-b', branch]);
  const work = mkdtempSync(join(tmpdir(), 'arbiter-seed-'));
  try {
    git(work, ['init', '-q', '-b', branch]);
    for (const commit of commits) {
      for (const [path, content] of Object.entries(commit.files)) {
        if (content === null) git(work, ['rm', '-q', '--cached', '--ignore-unmatch', path]);
        else {
          mkdirSync(dirname(join(work, path)), { recursive: true });
          writeFileSync(join(work, path), content);
          git(work, ['add', path]);
        }
      }
      git(work, ['commit', '-q', '--allow-empty', '-m', commit.message]);
    }
    git(work, ['push', '-q', bare, `${branch}:refs/heads/${branch}`]);
    return git(work, ['rev-parse', 'HEAD']).trim();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Every file under `dir` (relative path → content), e.g. to seed a repository from a fixture tree. */
export function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string): void => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (entry.isFile()) out[rel] = readFileSync(join(dir, rel), 'utf8');
    }
  };
  walk('');
  return out;
}
