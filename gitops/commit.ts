// Commits built from objects: blobs → only the trees along the changed paths → a (signed) commit object.
import { InputError } from '../engine/errors.ts';
import type { ObjectStore, TreeEntry } from './objects.ts';
import type { Signer } from './sign/signer.ts';

/** A change to one file; `content: null` deletes it. */
export interface TreeChange {
  path: string;
  content: string | Buffer | null;
}

export interface Identity {
  name: string;
  email: string;
}

export const ARBITER_IDENTITY: Identity = { name: 'arbiter', email: 'arbiter@arbiter.invalid' };

export interface ParsedCommit {
  oid: string;
  tree: string;
  parents: string[];
  author: string;
  committer: string;
  /** Seconds since the epoch, from the committer line. */
  committedAt: number;
  message: string;
  /** The armored signature from the `gpgsig` header, if any. */
  signature?: string;
  /** The bytes the signature covers: the commit object without its `gpgsig` header. */
  payload: Buffer;
}

/** Rejects paths git would refuse or that escape the tree: absolute, `..`, empty segments, `.git`. */
export function checkTreePath(path: string): string[] {
  const segments = path.split('/');
  if (!path || path.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..' || s.toLowerCase() === '.git' || s.includes('\0'))) {
    throw new InputError(`"${path}" is not a valid repository path`, 'edit.path');
  }
  return segments;
}

/** Applies `changes` to the tree `base` (null: empty tree) and returns the new root tree oid. */
export async function writeTreeChanges(store: ObjectStore, base: string | null, changes: TreeChange[]): Promise<string> {
  const split = changes.map((c) => ({ segments: checkTreePath(c.path), content: c.content }));
  const oid = await rewriteTree(store, base, split);
  return oid ?? (await store.writeTree([]));
}

type SplitChange = { segments: string[]; content: string | Buffer | null };

/** Returns the new tree oid, or null when the tree ends up empty (git has no empty subtrees). */
async function rewriteTree(store: ObjectStore, base: string | null, changes: SplitChange[]): Promise<string | null> {
  const entries = new Map<string, TreeEntry>();
  if (base) for (const e of await store.readTree(base)) entries.set(e.name, e);
  const nested = new Map<string, SplitChange[]>();
  for (const change of changes) {
    const [head, ...rest] = change.segments as [string, ...string[]];
    if (rest.length === 0) {
      const existing = entries.get(head);
      if (existing?.mode === '40000') throw new InputError(`"${change.segments.join('/')}" is a directory`, 'edit.path');
      if (change.content === null) entries.delete(head);
      else entries.set(head, { mode: existing && existing.mode !== '120000' ? existing.mode : '100644', name: head, oid: await store.writeBlob(change.content) });
    } else {
      const list = nested.get(head) ?? [];
      list.push({ segments: rest, content: change.content });
      nested.set(head, list);
    }
  }
  for (const [name, list] of nested) {
    const existing = entries.get(name);
    if (existing && existing.mode !== '40000') {
      // deleting something below a file deletes nothing; writing below it would need the file to be a directory
      if (list.every((c) => c.content === null)) continue;
      throw new InputError(`"${name}" is a file, not a directory`, 'edit.path');
    }
    const oid = await rewriteTree(store, existing?.oid ?? null, list);
    if (oid) entries.set(name, { mode: '40000', name, oid });
    else entries.delete(name);
  }
  if (entries.size === 0) return null;
  return store.writeTree([...entries.values()]);
}

/** Reads the file at `path` in tree `root`, walking only the trees along the path. */
export async function readPath(store: ObjectStore, root: string, path: string): Promise<{ oid: string; mode: string } | undefined> {
  let tree = root;
  const segments = path.split('/').filter(Boolean);
  for (let i = 0; i < segments.length; i++) {
    const entry = (await store.readTree(tree)).find((e) => e.name === segments[i]);
    if (!entry) return undefined;
    if (i === segments.length - 1) return { oid: entry.oid, mode: entry.mode };
    if (entry.mode !== '40000') return undefined;
    tree = entry.oid;
  }
  return { oid: root, mode: '40000' };
}

function identityLine(who: Identity, when: Date): string {
  const clean = (s: string) => s.replace(/[<>\n]/g, '');
  return `${clean(who.name)} <${clean(who.email)}> ${Math.floor(when.getTime() / 1000)} +0000`;
}

export interface CommitSpec {
  tree: string;
  parents: string[];
  message: string;
  author?: Identity;
  committer?: Identity;
  /** Commit time; defaults to the clock. */
  when?: Date;
  signer?: Signer;
}

/** Writes a commit object, signing its payload into a `gpgsig` header as git does. */
export async function writeCommit(store: ObjectStore, spec: CommitSpec): Promise<string> {
  const when = spec.when ?? new Date();
  const headers = [`tree ${spec.tree}`, ...spec.parents.map((p) => `parent ${p}`)];
  headers.push(`author ${identityLine(spec.author ?? ARBITER_IDENTITY, when)}`);
  headers.push(`committer ${identityLine(spec.committer ?? spec.author ?? ARBITER_IDENTITY, when)}`);
  const message = spec.message.endsWith('\n') ? spec.message : `${spec.message}\n`;
  const payload = `${headers.join('\n')}\n\n${message}`;
  if (!spec.signer) return store.write('commit', Buffer.from(payload, 'utf8'));
  const signature = await spec.signer.sign(Buffer.from(payload, 'utf8'));
  const folded = signature.trimEnd().split('\n').join('\n ');
  const signed = `${headers.join('\n')}\ngpgsig ${folded}\n\n${message}`;
  return store.write('commit', Buffer.from(signed, 'utf8'));
}

export function parseCommit(oid: string, content: Buffer): ParsedCommit {
  const text = content.toString('utf8');
  const split = text.indexOf('\n\n');
  const head = split === -1 ? text : text.slice(0, split);
  const message = split === -1 ? '' : text.slice(split + 2);
  const lines = head.split('\n');
  const kept: string[] = [];
  const parents: string[] = [];
  let tree = '';
  let author = '';
  let committer = '';
  let signature: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('gpgsig ') || line.startsWith('gpgsig-sha256 ')) {
      const sig = [line.slice(line.indexOf(' ') + 1)];
      while (i + 1 < lines.length && lines[i + 1]!.startsWith(' ')) sig.push(lines[++i]!.slice(1));
      if (line.startsWith('gpgsig ')) signature = `${sig.join('\n')}\n`;
      else kept.push(line, ...sig.map((s) => ` ${s}`));
      continue;
    }
    kept.push(line);
    if (line.startsWith('tree ')) tree = line.slice(5);
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
    else if (line.startsWith('author ')) author = line.slice(7);
    else if (line.startsWith('committer ')) committer = line.slice(10);
  }
  const time = /> (\d+) [+-]\d{4}$/.exec(committer);
  const payload = Buffer.from(`${kept.join('\n')}\n\n${message}`, 'utf8');
  return { oid, tree, parents, author, committer, committedAt: time ? Number(time[1]) : 0, message, signature, payload };
}

export async function readCommit(store: ObjectStore, oid: string): Promise<ParsedCommit> {
  const object = await store.read(oid);
  if (object.type !== 'commit') throw new InputError(`${oid} is a ${object.type}, not a commit`, 'commit');
  return parseCommit(oid, object.content);
}
