// Reads objects out of packfiles through their v2 index, one object at a time (no whole-pack load): a lookup is a
// binary search in the .idx and a positioned read in the .pack, so cost follows the objects touched, not pack size.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { InternalError } from '../engine/errors.ts';
import type { GitObject, ObjectType } from './object-model.ts';

/** A pack or pack index arbiter cannot read: corrupt, or a format it does not handle. */
export class CorruptPackError extends InternalError {}

const TYPES: Record<number, ObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;

class PackIndex {
  private readonly fanout: Uint32Array;
  private readonly count: number;
  private readonly namesAt: number;
  private readonly offsetsAt: number;
  private readonly largeAt: number;

  constructor(
    private readonly idx: Buffer,
    readonly packPath: string,
    readonly packSize: number,
  ) {
    if (idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2) throw new CorruptPackError(`${packPath}: only v2 pack indexes are supported`);
    this.fanout = new Uint32Array(256);
    for (let i = 0; i < 256; i++) this.fanout[i] = idx.readUInt32BE(8 + i * 4);
    this.count = this.fanout[255]!;
    this.namesAt = 8 + 256 * 4;
    this.offsetsAt = this.namesAt + this.count * 20 + this.count * 4;
    this.largeAt = this.offsetsAt + this.count * 4;
  }

  private offsetOf(i: number): number {
    const small = this.idx.readUInt32BE(this.offsetsAt + i * 4);
    if (!(small & 0x80000000)) return small;
    return Number(this.idx.readBigUInt64BE(this.largeAt + (small & 0x7fffffff) * 8));
  }

  find(oid: string): number | undefined {
    const want = Buffer.from(oid, 'hex');
    const first = want[0]!;
    let lo = first === 0 ? 0 : this.fanout[first - 1]!;
    let hi = this.fanout[first]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      // compares want with the entry: negative when want sorts first
      const cmp = want.compare(this.idx, this.namesAt + mid * 20, this.namesAt + mid * 20 + 20, 0, 20);
      if (cmp === 0) return this.offsetOf(mid);
      if (cmp < 0) hi = mid;
      else lo = mid + 1;
    }
    return undefined;
  }

}

function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let i = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = delta[i++]!;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  const baseSize = varint();
  if (baseSize !== base.length) throw new CorruptPackError('delta base size mismatch');
  const out = Buffer.allocUnsafe(varint());
  let at = 0;
  while (i < delta.length) {
    const op = delta[i++]!;
    if (op & 0x80) {
      let offset = 0;
      let size = 0;
      for (let b = 0; b < 4; b++) if (op & (1 << b)) offset |= delta[i++]! << (8 * b);
      for (let b = 0; b < 3; b++) if (op & (1 << (4 + b))) size |= delta[i++]! << (8 * b);
      if (size === 0) size = 0x10000;
      base.copy(out, at, offset >>> 0, (offset >>> 0) + size);
      at += size;
    } else if (op) {
      delta.copy(out, at, i, i + op);
      at += op;
      i += op;
    } else throw new CorruptPackError('invalid delta opcode 0');
  }
  if (at !== out.length) throw new CorruptPackError('delta result size mismatch');
  return out;
}

export class PackReader {
  private indexes: PackIndex[] = [];
  private loadedNames = '';
  private readonly fds = new Map<string, number>();

  constructor(private readonly packDir: string) {
    this.reload();
  }

  /** Re-reads the list of packs (after a fetch added one); returns true when it changed. */
  reload(): boolean {
    let names: string[] = [];
    try {
      names = readdirSync(this.packDir).filter((n) => n.endsWith('.idx')).sort();
    } catch {
      /* no pack directory yet */
    }
    const key = names.join(',');
    if (key === this.loadedNames) return false;
    this.loadedNames = key;
    for (const [path, fd] of this.fds) {
      if (!names.includes(`${path.slice(path.lastIndexOf('/') + 1, -5)}.idx`)) {
        closeSync(fd);
        this.fds.delete(path);
      }
    }
    this.indexes = names.flatMap((n) => {
      const packPath = `${this.packDir}/${n.slice(0, -4)}.pack`;
      try {
        return [new PackIndex(readFileSync(`${this.packDir}/${n}`), packPath, statSync(packPath).size)];
      } catch {
        return [];
      }
    });
    return true;
  }

  has(oid: string): boolean {
    return this.indexes.some((index) => index.find(oid) !== undefined);
  }

  read(oid: string, resolveBase: (oid: string) => GitObject | undefined): GitObject | undefined {
    for (const index of this.indexes) {
      const offset = index.find(oid);
      if (offset !== undefined) return this.readAt(index, offset, resolveBase);
    }
    return undefined;
  }

  /** Reads `length` bytes at `offset` (clipped to the pack's end), through one open descriptor per pack. */
  private bytes(index: PackIndex, offset: number, length: number): Buffer {
    const raw = Buffer.allocUnsafe(Math.max(0, Math.min(length, index.packSize - offset)));
    let fd = this.fds.get(index.packPath);
    if (fd === undefined) this.fds.set(index.packPath, (fd = openSync(index.packPath, 'r')));
    readSync(fd, raw, 0, raw.length, offset);
    return raw;
  }

  /** Closes the pack descriptors (reads after this reopen them). */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  private readAt(index: PackIndex, offset: number, resolveBase: (oid: string) => GitObject | undefined): GitObject {
    // header ≤ 32 bytes; deflate adds at most ~5 bytes per 16 KiB block plus a few, so size + slack holds the stream.
    // Most GitOps files are small: the first read usually holds the whole object.
    let raw = this.bytes(index, offset, 8192);
    let i = 0;
    let byte = raw[i++]!;
    const type = (byte >> 4) & 7;
    let size = byte & 0x0f;
    let shift = 4;
    while (byte & 0x80) {
      byte = raw[i++]!;
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    }
    const needed = 64 + size + Math.ceil(size / 1000) + 64;
    if (needed > raw.length) raw = this.bytes(index, offset, needed);
    if (type === OFS_DELTA) {
      byte = raw[i++]!;
      let rel = byte & 0x7f;
      while (byte & 0x80) {
        byte = raw[i++]!;
        rel = (rel + 1) * 128 + (byte & 0x7f);
      }
      const base = this.readAt(index, offset - rel, resolveBase);
      return { type: base.type, content: applyDelta(base.content, inflateSync(raw.subarray(i))) };
    }
    if (type === REF_DELTA) {
      const baseOid = raw.subarray(i, i + 20).toString('hex');
      const base = resolveBase(baseOid);
      if (!base) throw new CorruptPackError(`delta base ${baseOid} is missing`);
      return { type: base.type, content: applyDelta(base.content, inflateSync(raw.subarray(i + 20))) };
    }
    const t = TYPES[type];
    if (!t) throw new CorruptPackError(`unknown pack object type ${type}`);
    return { type: t, content: inflateSync(raw.subarray(i)) };
  }
}

const TYPE_CODES: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };

/**
 * Writes `objects` as one packfile + v2 index (what a push delivers), so a commit's new blob, trees and commit
 * cost two file creations instead of one per object. Both files are written under temporary names and renamed,
 * the index last: git and arbiter only see a pack once its index is in place.
 */
export function writePack(packDir: string, objects: Array<{ oid: string; type: ObjectType; content: Buffer }>): string {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(objects.length, 8);
  const parts: Buffer[] = [header];
  const entries: Array<{ oid: Buffer; offset: number; crc: number }> = [];
  let offset = 12;
  for (const o of objects) {
    const head: number[] = [];
    let size = o.content.length;
    let byte = (TYPE_CODES[o.type] << 4) | (size & 0x0f);
    size = Math.floor(size / 16);
    while (size > 0) {
      head.push(byte | 0x80);
      byte = size & 0x7f;
      size = Math.floor(size / 128);
    }
    head.push(byte);
    const packed = Buffer.concat([Buffer.from(head), deflateSync(o.content, { level: 1 })]);
    entries.push({ oid: Buffer.from(o.oid, 'hex'), offset, crc: crc32(packed) });
    parts.push(packed);
    offset += packed.length;
  }
  const body = Buffer.concat(parts);
  const packSha = createHash('sha1').update(body).digest();
  entries.sort((a, b) => Buffer.compare(a.oid, b.oid));
  const fanout = Buffer.alloc(256 * 4);
  for (let b = 0, i = 0; b < 256; b++) {
    while (i < entries.length && entries[i]!.oid[0]! <= b) i++;
    fanout.writeUInt32BE(i, b * 4);
  }
  const crcs = Buffer.alloc(entries.length * 4);
  const offsets = Buffer.alloc(entries.length * 4);
  entries.forEach((e, i) => {
    crcs.writeUInt32BE(e.crc >>> 0, i * 4);
    offsets.writeUInt32BE(e.offset, i * 4);
  });
  const idxBody = Buffer.concat([Buffer.from([0xff, 0x74, 0x4f, 0x63, 0, 0, 0, 2]), fanout, ...entries.map((e) => e.oid), crcs, offsets, packSha]);
  const idx = Buffer.concat([idxBody, createHash('sha1').update(idxBody).digest()]);
  const name = `pack-${packSha.toString('hex')}`;
  mkdirSync(packDir, { recursive: true });
  const temp = `${packDir}/tmp_pack_${randomBytes(6).toString('hex')}`;
  try {
    writeFileSync(`${temp}.pack`, Buffer.concat([body, packSha]), { mode: 0o444 });
    writeFileSync(`${temp}.idx`, idx, { mode: 0o444 });
    renameSync(`${temp}.pack`, `${packDir}/${name}.pack`);
    renameSync(`${temp}.idx`, `${packDir}/${name}.idx`);
  } finally {
    rmSync(`${temp}.pack`, { force: true });
    rmSync(`${temp}.idx`, { force: true });
  }
  return name;
}

/** Packs smaller than this count as arbiter's own small packs when consolidating. */
const SMALL_PACK_BYTES = 1 << 20;

/**
 * Merges small packs into one when there are at least `threshold` of them (git's gc.autoPackLimit is 50), so a
 * repository arbiter writes to for months keeps lookups cheap. New index first, then the old ones go: a reader
 * always finds every object in at least one pack.
 */
export function consolidateSmallPacks(packDir: string, threshold = 50): boolean {
  let names: string[];
  try {
    names = readdirSync(packDir).filter((n) => n.endsWith('.idx'));
  } catch {
    return false;
  }
  const small = names
    .map((n) => n.slice(0, -4))
    .filter((base) => {
      try {
        return statSync(`${packDir}/${base}.pack`).size < SMALL_PACK_BYTES;
      } catch {
        return false;
      }
    });
  if (small.length < threshold) return false;
  const reader = new PackReader(packDir);
  const objects = new Map<string, { oid: string; type: ObjectType; content: Buffer }>();
  for (const base of small) {
    const idx = readFileSync(`${packDir}/${base}.idx`);
    const count = idx.readUInt32BE(8 + 255 * 4);
    for (let i = 0; i < count; i++) {
      const oid = idx.subarray(8 + 1024 + i * 20, 8 + 1024 + i * 20 + 20).toString('hex');
      if (objects.has(oid)) continue;
      const object = reader.read(oid, (base) => reader.read(base, () => undefined));
      if (object) objects.set(oid, { oid, ...object });
    }
  }
  reader.close();
  const merged = writePack(packDir, [...objects.values()]);
  for (const base of small) {
    if (base === merged) continue;
    rmSync(`${packDir}/${base}.idx`, { force: true });
    rmSync(`${packDir}/${base}.pack`, { force: true });
  }
  return true;
}
