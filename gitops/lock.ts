// Locks that survive a crash of their holder (issue 10 item 4). Every lock arbiter takes records its owner
// (pid, host, the process's start time, a random token); a lock whose owner is dead is broken safely, so no run ever
// waits on a dead process:
// - on this host, the owner is dead when its pid is gone or now belongs to a process that started at another time
//   (pid reuse); on another host (a shared cache directory) only age tells, after STALE_FOREIGN_MS;
// - breaking renames the lock to a unique name first (only one breaker wins) and puts it back if it turned out to
//   be a different, live owner's lock.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';

export interface LockOwner {
  pid: number;
  host: string;
  /** The owner process's start time (Linux: /proc/<pid>/stat field 22, clock ticks since boot); null elsewhere. */
  processStart: string | null;
  /** When the lock was taken (ISO 8601). */
  takenAt: string;
  token: string;
}

/** A lock of another host's process is only broken when older than this. */
export const STALE_FOREIGN_MS = 10 * 60_000;
/** A lock file without a readable owner (its holder died between creating and writing it) after this long. */
const STALE_UNREADABLE_MS = 10_000;

function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

const SELF_START = processStart(process.pid);

export function currentOwner(): LockOwner {
  return { pid: process.pid, host: hostname(), processStart: SELF_START, takenAt: new Date().toISOString(), token: randomBytes(8).toString('hex') };
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.token === 'string' && typeof o.takenAt === 'string') {
      return { pid: o.pid, host: o.host, processStart: typeof o.processStart === 'string' ? o.processStart : null, takenAt: o.takenAt, token: o.token };
    }
  } catch {
    /* not an owner record */
  }
  return undefined;
}

/** True when the owner is certainly gone. Fails closed: when in doubt, the owner is alive. */
export function ownerIsDead(owner: LockOwner, now = Date.now()): boolean {
  if (owner.host !== hostname()) return now - Date.parse(owner.takenAt) > STALE_FOREIGN_MS;
  if (owner.pid === process.pid) return owner.processStart !== SELF_START;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  // the pid is alive: dead only if it is another process that reused the pid
  const start = processStart(owner.pid);
  return owner.processStart !== null && start !== null && start !== owner.processStart;
}

/** Reads the lock at `path`: its owner, or `unreadable` with the file's age. */
export function readLock(path: string): { owner: LockOwner; text: string } | { unreadable: true; ageMs: number; text: string } | undefined {
  let text: string;
  let mtime: number;
  try {
    text = fs.readFileSync(path, 'utf8');
    mtime = fs.statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
  const owner = parseOwner(text);
  return owner ? { owner, text } : { unreadable: true, ageMs: Date.now() - mtime, text };
}

/**
 * Breaks the lock at `path` when its owner is dead (or it has been unreadable for a while); true when it was
 * broken (or is already gone). Only the breaker whose rename wins removes it.
 */
export function breakIfStale(path: string, log?: (line: string) => void): boolean {
  const seen = readLock(path);
  if (!seen) return true;
  const stale = 'owner' in seen ? ownerIsDead(seen.owner) : seen.ageMs > STALE_UNREADABLE_MS;
  if (!stale) return false;
  const aside = `${path}.broken-${randomBytes(6).toString('hex')}`;
  try {
    fs.renameSync(path, aside);
  } catch {
    return !fs.existsSync(path);
  }
  const moved = fs.readFileSync(aside, 'utf8');
  if (moved !== seen.text) {
    // another process took the lock between our read and our rename: give it back
    try {
      fs.linkSync(aside, path);
    } catch {
      /* a third process holds it now; ours is gone either way */
    }
    fs.rmSync(aside, { force: true });
    return false;
  }
  fs.rmSync(aside, { force: true });
  log?.(`broke the lock ${path}: ${'owner' in seen ? `its owner (pid ${seen.owner.pid} on ${seen.owner.host}) is gone` : 'it had no owner record'}`);
  return true;
}

/** Creates `path` exclusively with this process as owner; false when it exists. */
export function tryTakeLock(path: string, owner: LockOwner = currentOwner()): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    fs.writeSync(fd, `${JSON.stringify(owner)}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}
