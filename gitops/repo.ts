// A GitOps repository arbiter writes to: a local path (objects and refs written in place) or a smart-HTTP(S)
// remote (fetched into a private bare cache, pushed back). Ref updates are compare-and-swap on the old oid.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { InputError, TransientError } from '../engine/errors.ts';
import { ObjectStore } from './objects.ts';

export const ZERO_OID = '0000000000000000000000000000000000000000';

/** Another writer moved the branch first: fetch, re-plan on the new tip and try again. */
export class ConcurrentUpdateError extends TransientError {
  constructor(
    readonly branch: string,
    detail: string,
  ) {
    super(`branch ${branch} moved while arbiter was writing (${detail})`, { hint: 'retry on the new tip', retryAfterSeconds: 1 });
  }
}

/** Another arbiter process holds the lock of a cache or ref. */
export class LockBusyError extends TransientError {}

/** The remote did not answer (network, server down). */
export class RemoteUnreachableError extends TransientError {}

export interface RepositoryOptions {
  /** Where remote repositories are cached (default `$XDG_CACHE_HOME/arbiter`, else `~/.cache/arbiter`). */
  cacheDir?: string;
  /** Credentials for remotes; default from the environment (see `credentialsFromEnv`). */
  credentials?: { username: string; password: string };
}

/**
 * `ARBITER_GIT_TOKEN` (sent as the password of user `ARBITER_GIT_USERNAME`, default `x-access-token`, which GitHub
 * and Gitea accept), or `ARBITER_GIT_USERNAME` + `ARBITER_GIT_PASSWORD`.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): { username: string; password: string } | undefined {
  if (env.ARBITER_GIT_TOKEN) return { username: env.ARBITER_GIT_USERNAME || 'x-access-token', password: env.ARBITER_GIT_TOKEN };
  if (env.ARBITER_GIT_USERNAME && env.ARBITER_GIT_PASSWORD) return { username: env.ARBITER_GIT_USERNAME, password: env.ARBITER_GIT_PASSWORD };
  return undefined;
}

export function isRemoteLocation(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'arbiter');
}

/** Reads a ref (loose file first, then packed-refs); undefined when it does not exist. Sync I/O: refs are tiny. */
export async function readRef(gitdir: string, ref: string): Promise<string | undefined> {
  return readRefSync(gitdir, ref);
}

function readRefSync(gitdir: string, ref: string): string | undefined {
  try {
    const text = fs.readFileSync(join(gitdir, ref), 'utf8').trim();
    if (text.startsWith('ref: ')) return readRefSync(gitdir, text.slice(5));
    return text || undefined;
  } catch {
    /* not a loose ref */
  }
  try {
    const packed = fs.readFileSync(join(gitdir, 'packed-refs'), 'utf8');
    for (const line of packed.split('\n')) {
      if (line.endsWith(` ${ref}`) && /^[0-9a-f]{40} /.test(line)) return line.slice(0, 40);
    }
  } catch {
    /* no packed refs */
  }
  return undefined;
}

function checkBranchName(branch: string): void {
  if (!/^[A-Za-z0-9._/-]+$/.test(branch) || branch.includes('..') || branch.startsWith('/') || branch.endsWith('/') || branch.endsWith('.lock') || branch.includes('//')) {
    throw new InputError(`"${branch}" is not a valid branch name`, 'branch');
  }
}

/** Atomic compare-and-swap of a loose ref: take `<ref>.lock` exclusively, check the old value, rename into place. */
export async function compareAndSwapRef(gitdir: string, ref: string, oid: string, expected: string | null): Promise<void> {
  const path = join(gitdir, ref);
  const lock = `${path}.lock`;
  const branch = ref.replace(/^refs\/heads\//, '');
  fs.mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
  let fd: number | undefined;
  try {
    fd = fs.openSync(lock, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConcurrentUpdateError(branch, `${ref}.lock exists`);
    throw err;
  }
  try {
    const current = readRefSync(gitdir, ref) ?? null;
    if (current !== expected) throw new ConcurrentUpdateError(branch, `expected ${expected ?? 'no branch'}, found ${current ?? 'no branch'}`);
    // no fsync, like git's default (core.fsync): the lock + rename keeps the ref whole, never half-written
    fs.writeSync(fd, `${oid}\n`);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(lock, path);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(lock, { force: true });
    throw err;
  }
}

export class Repository {
  readonly store: ObjectStore;

  private constructor(
    readonly gitdir: string,
    /** The remote URL, or undefined for a local repository. */
    readonly url: string | undefined,
    /** The work tree of a non-bare local repository. */
    readonly workTree: string | undefined,
    private readonly credentials: { username: string; password: string } | undefined,
  ) {
    this.store = new ObjectStore(gitdir);
  }

  static async open(location: string, options: RepositoryOptions = {}): Promise<Repository> {
    if (isRemoteLocation(location)) {
      const cacheRoot = options.cacheDir ?? defaultCacheDir();
      const url = location.replace(/\/+$/, '');
      const gitdir = join(cacheRoot, createHash('sha256').update(url).digest('hex').slice(0, 16));
      if (!fs.existsSync(join(gitdir, 'HEAD'))) {
        await mkdir(gitdir, { recursive: true });
        await git.init({ fs, gitdir, bare: true, defaultBranch: 'main' });
      }
      await git.setConfig({ fs, gitdir, path: 'remote.origin.url', value: url });
      await git.setConfig({ fs, gitdir, path: 'remote.origin.fetch', value: '+refs/heads/*:refs/remotes/origin/*' });
      return new Repository(gitdir, url, undefined, options.credentials ?? credentialsFromEnv());
    }
    const path = resolve(location.replace(/^file:\/\//, ''));
    if (fs.existsSync(join(path, '.git', 'HEAD'))) return new Repository(join(path, '.git'), undefined, path, undefined);
    if (fs.existsSync(join(path, 'HEAD')) && fs.existsSync(join(path, 'objects'))) return new Repository(path, undefined, undefined, undefined);
    throw new InputError(`${location} is not a Git repository (expected a bare repository, a work tree with .git, or an http(s) URL)`, 'repo');
  }

  get isRemote(): boolean {
    return this.url !== undefined;
  }

  private remoteRef(branch: string): string {
    return this.isRemote ? `refs/remotes/origin/${branch}` : `refs/heads/${branch}`;
  }

  /** The tip of `branch` as arbiter last saw it (after `sync` for remotes); null when the branch does not exist. */
  async tip(branch: string): Promise<string | null> {
    checkBranchName(branch);
    return (await readRef(this.gitdir, this.remoteRef(branch))) ?? null;
  }

  /** Brings the named branches up to date from the remote (no-op for local repositories). */
  async sync(branches: string[]): Promise<void> {
    if (!this.url) return;
    const onAuth = this.credentials ? () => this.credentials! : undefined;
    const refs = await git.listServerRefs({ http, url: this.url, onAuth, prefix: 'refs/heads/' }).catch((err: unknown) => {
      throw new RemoteUnreachableError(`cannot reach ${this.url}: ${err instanceof Error ? err.message : String(err)}`, { field: 'repo', cause: err });
    });
    const remote = new Map(refs.map((r) => [r.ref.replace(/^refs\/heads\//, ''), r.oid]));
    for (const branch of branches) {
      checkBranchName(branch);
      const oid = remote.get(branch);
      const local = join(this.gitdir, this.remoteRef(branch));
      if (!oid) {
        await unlink(local).catch(() => undefined);
        continue;
      }
      if ((await readRef(this.gitdir, this.remoteRef(branch))) === oid && (await this.store.has(oid))) continue;
      // fetch also moves refs/remotes/origin/<branch> to the fetched tip
      await git.fetch({ fs, http, gitdir: this.gitdir, url: this.url, remote: 'origin', ref: branch, singleBranch: true, tags: false, onAuth });
    }
  }

  /** Fails when the local work tree has `branch` checked out: arbiter never touches a work tree. */
  private async refuseCheckedOut(branch: string): Promise<void> {
    if (!this.workTree) return;
    const head = fs.existsSync(join(this.gitdir, 'HEAD')) ? fs.readFileSync(join(this.gitdir, 'HEAD'), 'utf8') : '';
    if (head.trim() === `ref: refs/heads/${branch}`) {
      throw new InputError(
        `${branch} is checked out in the work tree ${this.workTree}; arbiter never writes to a work tree`,
        'repo',
        'use a bare repository or a remote URL, or check out another branch there',
      );
    }
  }

  /** Moves `branch` from `expected` (null: create) to `oid`, atomically; ConcurrentUpdateError when it moved. */
  async updateBranch(branch: string, oid: string, expected: string | null, options: { force?: boolean } = {}): Promise<void> {
    checkBranchName(branch);
    // objects first, then the ref: a ref never points at objects that are not stored
    this.store.flush();
    if (!this.url) {
      await this.refuseCheckedOut(branch);
      await compareAndSwapRef(this.gitdir, `refs/heads/${branch}`, oid, expected);
      return;
    }
    const outgoing = `refs/arbiter/outgoing/${branch}`;
    await compareAndSwapRef(this.gitdir, outgoing, oid, (await readRef(this.gitdir, outgoing)) ?? null);
    const onAuth = this.credentials ? () => this.credentials! : undefined;
    try {
      await git.push({ fs, http, gitdir: this.gitdir, url: this.url, remote: 'origin', ref: outgoing, remoteRef: `refs/heads/${branch}`, force: options.force ?? false, onAuth });
    } catch (err) {
      const code = err && typeof err === 'object' && 'code' in err ? String(err.code) : '';
      if (code === 'PushRejectedError' || code === 'GitPushError') {
        throw new ConcurrentUpdateError(branch, err instanceof Error ? err.message.trim() : code);
      }
      throw err;
    }
    const tracking = join(this.gitdir, this.remoteRef(branch));
    await mkdir(tracking.slice(0, tracking.lastIndexOf('/')), { recursive: true });
    const temp = `${tracking}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.promises.writeFile(temp, `${oid}\n`);
    await rename(temp, tracking);
  }

  /** Serialises arbiter processes sharing one cache directory (a remote's cache is not safe for two writers). */
  async withCacheLock<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.url) return fn();
    const lock = join(this.gitdir, 'arbiter.lock');
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        await (await open(lock, 'wx')).close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = Date.now() - (await stat(lock).then((s) => s.mtimeMs).catch(() => Date.now()));
        if (age > 600_000) await unlink(lock).catch(() => undefined);
        if (Date.now() > deadline) throw new LockBusyError(`cache ${this.gitdir} is locked by another arbiter process (${lock})`);
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
    try {
      return await fn();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }
}
