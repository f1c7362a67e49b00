// A GitOps repository arbiter writes to: a local path (objects and refs written in place) or a smart-HTTP(S)
// remote (fetched into a private bare cache, pushed back). Ref updates are compare-and-swap on the old oid.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { InputError, TransientError } from '../engine/errors.ts';
import { breakIfStale, currentOwner, ownerIsDead, readLock, tryTakeLock } from './lock.ts';
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

/**
 * Where arbiter records who holds `<ref>.lock` (git's lock file must hold only the new oid, and git ignores this
 * directory): taken before the ref lock and removed after it, so a crash leaves a record that names a dead owner.
 */
function refOwnerFile(gitdir: string, ref: string): string {
  return join(gitdir, 'arbiter-locks', `${ref.replace(/\//g, '%')}.json`);
}

/** Breaks a dead arbiter owner's ref lock (and its record); a ref lock without an arbiter record is git's and stays. */
function breakStaleRefLock(gitdir: string, ref: string, log?: (line: string) => void): boolean {
  const ownerFile = refOwnerFile(gitdir, ref);
  const seen = readLock(ownerFile);
  if (!seen || !('owner' in seen) || !ownerIsDead(seen.owner)) return seen === undefined;
  const lock = `${join(gitdir, ref)}.lock`;
  // only a ref lock created after the dead owner took its record can be its own
  const lockTime = fs.existsSync(lock) ? fs.statSync(lock).mtimeMs : undefined;
  if (lockTime !== undefined && lockTime >= Date.parse(seen.owner.takenAt) - 1000) {
    fs.rmSync(lock, { force: true });
    log?.(`removed ${ref}.lock left by arbiter pid ${seen.owner.pid}, which is gone`);
  }
  return breakIfStale(ownerFile, log);
}

/** Atomic compare-and-swap of a loose ref: take `<ref>.lock` exclusively, check the old value, rename into place. */
export async function compareAndSwapRef(gitdir: string, ref: string, oid: string, expected: string | null): Promise<void> {
  const path = join(gitdir, ref);
  const lock = `${path}.lock`;
  const branch = ref.replace(/^refs\/heads\//, '');
  const ownerFile = refOwnerFile(gitdir, ref);
  fs.mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
  fs.mkdirSync(join(gitdir, 'arbiter-locks'), { recursive: true });
  const owner = currentOwner();
  if (!tryTakeLock(ownerFile, owner)) {
    if (!breakStaleRefLock(gitdir, ref) || !tryTakeLock(ownerFile, owner)) throw new ConcurrentUpdateError(branch, `another arbiter process holds ${ref}.lock`);
  }
  let fd: number | undefined;
  try {
    fd = fs.openSync(lock, 'wx');
  } catch (err) {
    fs.rmSync(ownerFile, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConcurrentUpdateError(branch, `${ref}.lock exists (held by git, or left by a crashed git process: remove it if no git runs)`);
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
  } finally {
    fs.rmSync(ownerFile, { force: true });
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
  async withCacheLock<T>(fn: () => Promise<T>, options: { waitMs?: number; log?: (line: string) => void } = {}): Promise<T> {
    if (!this.url) return fn();
    const lock = join(this.gitdir, 'arbiter.lock');
    const deadline = Date.now() + (options.waitMs ?? 120_000);
    const owner = currentOwner();
    for (let attempt = 1; !tryTakeLock(lock, owner); attempt++) {
      // a dead holder's lock is broken at once; a live one is waited for, never a dead one
      if (breakIfStale(lock, options.log)) continue;
      const holder = readLock(lock);
      if (Date.now() > deadline) {
        const who = holder && 'owner' in holder ? ` (pid ${holder.owner.pid} on ${holder.owner.host} since ${holder.owner.takenAt})` : '';
        throw new LockBusyError(`cache ${this.gitdir} is locked by another arbiter process${who}`, { hint: `it is alive; wait for it, or use another --cache-dir` });
      }
      await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random())));
    }
    try {
      return await fn();
    } finally {
      // only our own lock is removed (a breaker may have judged us dead and another process may hold it now)
      const held = readLock(lock);
      if (held && 'owner' in held && held.owner.token === owner.token) await unlink(lock).catch(() => undefined);
    }
  }
}
