// The Git object store of one repository: loose objects are read and written directly (node:zlib, temp file +
// rename, so a crash never leaves a half-written object); packed objects are read object by object through the pack
// index (./pack.ts), with isomorphic-git as the fallback for pack formats that reader does not handle.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { inflateSync, deflateSync } from 'node:zlib';
import git from 'isomorphic-git';
import { InternalError } from '../engine/errors.ts';
import type { GitObject, ObjectType } from './object-model.ts';
import { PackReader, consolidateSmallPacks, writePack } from './pack.ts';

export type { GitObject, ObjectType } from './object-model.ts';

/** One entry of a tree object. `mode` is git's octal string: 100644, 100755, 120000, 40000, 160000. */
export interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
}

export class ObjectMissingError extends InternalError {
  constructor(readonly oid: string) {
    super(`object ${oid} is missing from the repository`, { hint: 'fetch it, or check the repository is complete' });
  }
}

export class CorruptObjectError extends InternalError {
  constructor(oid: string, detail: string) {
    super(`object ${oid} is corrupt: ${detail}`);
  }
}

const OID = /^[0-9a-f]{40}$/;
const MEMO_BYTES = 32 << 20;

export function isOid(value: string): boolean {
  return OID.test(value);
}

/** The sha1 of a git object of `type` with `content`, as `git hash-object` computes it. */
export function hashObject(type: ObjectType, content: Buffer): string {
  return createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');
}

export class ObjectStore {
  /** isomorphic-git's pack cache: keeps parsed pack indexes between reads. */
  private readonly packCache: object = {};
  /** Trees and commits are immutable; caching them makes repeated walks cheap. Bounded by `MEMO_BYTES`. */
  private readonly memo = new Map<string, GitObject>();
  private memoBytes = 0;
  private readonly parsedTrees = new Map<string, TreeEntry[]>();
  private readonly written = new Set<string>();
  private packs?: PackReader;
  /** Objects written since `beginBatch`, kept in memory until `flush` writes them as one pack. */
  private pending?: Map<string, GitObject>;

  constructor(readonly gitdir: string) {}

  /** From now on writes collect in memory; `flush` stores them as one pack (a failed attempt leaves nothing behind). */
  beginBatch(): void {
    this.pending = new Map();
  }

  /** Stores the batched objects (one pack; a single object stays loose) and ends the batch. */
  flush(): void {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending || pending.size === 0) return;
    if (pending.size === 1) {
      for (const [oid, o] of pending) this.writeLoose(oid, o.type, o.content);
      return;
    }
    writePack(`${this.gitdir}/objects/pack`, [...pending].map(([oid, o]) => ({ oid, ...o })));
    for (const oid of pending.keys()) this.written.add(oid);
    consolidateSmallPacks(`${this.gitdir}/objects/pack`);
    this.packs?.reload();
  }

  async read(oid: string): Promise<GitObject> {
    const memo = this.memo.get(oid) ?? this.pending?.get(oid);
    if (memo) return memo;
    // packs first, as git does: an index lookup is in memory, a missing loose file costs a failed open
    const object = this.readFromPacks(oid) ?? this.readLoose(oid) ?? (await this.readPacked(oid));
    if (!object) throw new ObjectMissingError(oid);
    if (object.type !== 'blob') this.remember(oid, object);
    return object;
  }

  private remember(oid: string, object: GitObject): void {
    // a whole-cache reset is cheaper than LRU bookkeeping, and walks re-warm it in order
    if (this.memoBytes > MEMO_BYTES) {
      this.memo.clear();
      this.parsedTrees.clear();
      this.memoBytes = 0;
    }
    this.memo.set(oid, object);
    this.memoBytes += object.content.length + 100;
  }

  async has(oid: string): Promise<boolean> {
    if (this.memo.has(oid) || this.written.has(oid) || this.pending?.has(oid)) return true;
    if (fs.existsSync(this.loosePath(oid))) return true;
    if (await this.readPacked(oid).catch(() => undefined)) return true;
    try {
      await git.readObject({ fs, gitdir: this.gitdir, oid, format: 'deflated', cache: this.packCache });
      return true;
    } catch {
      return false;
    }
  }

  async readBlob(oid: string): Promise<Buffer> {
    const object = await this.read(oid);
    if (object.type !== 'blob') throw new CorruptObjectError(oid, `expected a blob, found a ${object.type}`);
    return object.content;
  }

  /** The entries of a tree; callers must not mutate the returned array (it is cached). */
  async readTree(oid: string): Promise<TreeEntry[]> {
    const cached = this.parsedTrees.get(oid);
    if (cached) return cached;
    const object = await this.read(oid);
    if (object.type !== 'tree') throw new CorruptObjectError(oid, `expected a tree, found a ${object.type}`);
    const entries = parseTree(object.content);
    this.parsedTrees.set(oid, entries);
    return entries;
  }

  /** Writes an object (no-op when it exists) and returns its oid. Synchronous I/O: objects are small. */
  async write(type: ObjectType, content: Buffer): Promise<string> {
    const oid = hashObject(type, content);
    if (this.written.has(oid) || this.pending?.has(oid)) return oid;
    if (fs.existsSync(this.loosePath(oid)) || (await this.hasPacked(oid))) {
      this.written.add(oid);
    } else if (this.pending) {
      this.pending.set(oid, { type, content });
    } else this.writeLoose(oid, type, content);
    if (type !== 'blob') this.remember(oid, { type, content });
    return oid;
  }

  private writeLoose(oid: string, type: ObjectType, content: Buffer): void {
    const path = this.loosePath(oid);
    {
      const dir = path.slice(0, path.lastIndexOf('/'));
      fs.mkdirSync(dir, { recursive: true });
      const temp = `${dir}/tmp_obj_${randomBytes(6).toString('hex')}`;
      const header = Buffer.from(`${type} ${content.length}\0`);
      fs.writeFileSync(temp, deflateSync(Buffer.concat([header, content]), { level: 1 }), { mode: 0o444 });
      try {
        // rename is atomic: readers see either no object or the whole object
        fs.renameSync(temp, path);
      } catch (err) {
        fs.rmSync(temp, { force: true });
        throw err;
      }
    }
    this.written.add(oid);
  }

  writeBlob(content: string | Buffer): Promise<string> {
    return this.write('blob', typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
  }

  writeTree(entries: TreeEntry[]): Promise<string> {
    return this.write('tree', serializeTree(entries));
  }

  private async hasPacked(oid: string): Promise<boolean> {
    this.packs ??= new PackReader(`${this.gitdir}/objects/pack`);
    try {
      return this.packs.has(oid);
    } catch {
      return false;
    }
  }

  /** Releases open pack descriptors. */
  close(): void {
    this.packs?.close();
  }

  private loosePath(oid: string): string {
    return `${this.gitdir}/objects/${oid.slice(0, 2)}/${oid.slice(2)}`;
  }

  private readLoose(oid: string): GitObject | undefined {
    let raw: Buffer;
    try {
      // synchronous: object files are small and a thread-pool round trip per object costs more than the read
      raw = fs.readFileSync(this.loosePath(oid));
    } catch {
      return undefined;
    }
    const data = inflateSync(raw);
    const nul = data.indexOf(0);
    const [type, size] = data.subarray(0, nul).toString('latin1').split(' ');
    const content = data.subarray(nul + 1);
    if (Number(size) !== content.length) throw new CorruptObjectError(oid, 'length does not match its header');
    return { type: type as ObjectType, content };
  }

  /** Delta bases may be loose or in another pack (thin packs completed by a fetch). */
  private readBaseSync = (oid: string): GitObject | undefined => this.memo.get(oid) ?? this.readLoose(oid) ?? this.packs?.read(oid, this.readBaseSync);

  private readFromPacks(oid: string): GitObject | undefined {
    try {
      this.packs ??= new PackReader(`${this.gitdir}/objects/pack`);
      return this.packs.read(oid, this.readBaseSync);
    } catch {
      return undefined;
    }
  }

  private async readPacked(oid: string): Promise<GitObject | undefined> {
    try {
      this.packs ??= new PackReader(`${this.gitdir}/objects/pack`);
      const found = this.packs.read(oid, this.readBaseSync) ?? (this.packs.reload() ? this.packs.read(oid, this.readBaseSync) : undefined);
      if (found) return found;
    } catch {
      // fall back to isomorphic-git below
    }
    try {
      const result = await git.readObject({ fs, gitdir: this.gitdir, oid, format: 'content', cache: this.packCache });
      return { type: result.type as ObjectType, content: Buffer.from(result.object as Uint8Array) };
    } catch (err) {
      if (err && typeof err === 'object' && 'code' in err && err.code === 'NotFoundError') return undefined;
      throw err;
    }
  }
}

export function parseTree(content: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let i = 0;
  while (i < content.length) {
    const space = content.indexOf(0x20, i);
    const nul = content.indexOf(0, space);
    const mode = content.subarray(i, space).toString('latin1');
    const name = content.subarray(space + 1, nul).toString('utf8');
    const oid = content.subarray(nul + 1, nul + 21).toString('hex');
    entries.push({ mode: mode === '40000' ? '40000' : mode, name, oid });
    i = nul + 21;
  }
  return entries;
}

/** Git orders tree entries by name bytes, comparing a directory's name as if it ended in '/'. */
export function serializeTree(entries: TreeEntry[]): Buffer {
  const keyed = entries.map((e) => ({ e, name: Buffer.from(e.name, 'utf8'), key: Buffer.from(e.mode === '40000' ? `${e.name}/` : e.name, 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  let size = 0;
  for (const k of keyed) size += k.e.mode.length + 1 + k.name.length + 1 + 20;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const { e, name } of keyed) {
    at += out.write(e.mode, at, 'latin1');
    out[at++] = 0x20;
    at += name.copy(out, at);
    out[at++] = 0;
    at += out.write(e.oid, at, 'hex');
  }
  return out;
}
