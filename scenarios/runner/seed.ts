// Seeds a fresh bare repository from a scenario: the fixture tree is the first commit, `history` the next ones.
// Built with stock git plumbing (hash-object, update-index, commit-tree) so no work tree or checkout is involved.
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ScenarioSpec } from './schema.ts';

const run = promisify(execFile);

const SEED_IDENTITY = {
  GIT_AUTHOR_NAME: 'Release Pipeline',
  GIT_AUTHOR_EMAIL: 'release@shop.example.com',
  GIT_COMMITTER_NAME: 'Release Pipeline',
  GIT_COMMITTER_EMAIL: 'release@shop.example.com',
};

/** Runs git against `gitDir` with a clean config (no user or system settings leak into scenarios). */
export async function gitIn(gitDir: string, args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<string> {
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', ...SEED_IDENTITY, ...options.env };
  if (options.input === undefined) {
    const { stdout } = await run('git', ['--git-dir', gitDir, ...args], { env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  }
  return new Promise((resolvePromise, reject) => {
    const child = execFile('git', ['--git-dir', gitDir, ...args], { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolvePromise(stdout)));
    child.stdin!.end(options.input);
  });
}

export interface SeededRepository {
  gitDir: string;
  branch: string;
  /** Tip of every branch after seeding: what the runner compares against after `act`. */
  tips: Record<string, string>;
}

function gitDate(iso: string): string {
  return `${Math.floor(Date.parse(iso) / 1000)} +0000`;
}

/** Commit times: history spaced one hour apart, the last one an hour before `now`; the fixture tree before them. */
function commitTimes(history: ScenarioSpec['history'], now: string): { initial: string; history: string[] } {
  const hour = 3600_000;
  const end = Date.parse(now) - hour;
  const times = history.map((c, i) => c.at ?? new Date(end - (history.length - 1 - i) * hour).toISOString());
  return { initial: new Date(end - history.length * hour).toISOString(), history: times };
}

export async function seedRepository(gitDir: string, spec: { repoDir: string; branch: string; history: ScenarioSpec['history']; now: string }): Promise<SeededRepository> {
  await mkdir(gitDir, { recursive: true });
  await gitIn(gitDir, ['init', '-q', '--bare', '-b', spec.branch]);
  await gitIn(gitDir, ['config', 'http.receivepack', 'true']);
  const index = join(gitDir, 'seed-index');
  const times = commitTimes(spec.history, spec.now);
  const tips: Record<string, string> = {};

  // The fixture directory is the first commit (dotfiles such as .arbiter/ included).
  await gitIn(gitDir, ['--work-tree', spec.repoDir, 'add', '-A', '.'], { env: { GIT_INDEX_FILE: index } });
  const rootTree = (await gitIn(gitDir, ['write-tree'], { env: { GIT_INDEX_FILE: index } })).trim();
  const when = { GIT_AUTHOR_DATE: gitDate(times.initial), GIT_COMMITTER_DATE: gitDate(times.initial) };
  tips[spec.branch] = (await gitIn(gitDir, ['commit-tree', rootTree, '-m', 'shop: initial GitOps tree'], { env: when })).trim();

  for (const [i, commit] of spec.history.entries()) {
    const branch = commit.branch ?? spec.branch;
    const parent = tips[branch];
    const env = { GIT_INDEX_FILE: index };
    await rm(index, { force: true });
    if (parent) await gitIn(gitDir, ['read-tree', parent], { env });
    else await gitIn(gitDir, ['read-tree', '--empty'], { env });
    // One `update-index --index-info` per commit: mode 0 removes a path, 100644 adds or replaces it.
    const lines: string[] = [];
    for (const [path, content] of Object.entries(commit.files)) {
      if (content === null) lines.push(`0 ${'0'.repeat(40)}\t${path}`);
      else lines.push(`100644 ${(await gitIn(gitDir, ['hash-object', '-w', '--stdin'], { input: content })).trim()}\t${path}`);
    }
    if (lines.length) await gitIn(gitDir, ['update-index', '--index-info'], { env, input: `${lines.join('\n')}\n` });
    const tree = (await gitIn(gitDir, ['write-tree'], { env })).trim();
    const date = gitDate(times.history[i]!);
    const args = ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', commit.message];
    tips[branch] = (await gitIn(gitDir, args, { env: { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } })).trim();
  }
  await rm(index, { force: true });
  for (const [branch, oid] of Object.entries(tips)) await gitIn(gitDir, ['update-ref', `refs/heads/${branch}`, oid]);
  return { gitDir, branch: spec.branch, tips };
}
