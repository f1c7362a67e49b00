// TreeView and HistoryView over commits of the target branch: what actions read when they plan (DESIGN §5).
// A view is scoped to path prefixes (the service's catalog paths and `.arbiter/`), so building one costs what
// those directories hold, never the size of the whole repository.
import type { HistoryCommit, HistoryView, TreeView } from '../actions/types.ts';
import { readCommit, readPath } from './commit.ts';
import { parseTrailers } from './message.ts';
import type { ObjectStore } from './objects.ts';

/** How far back the first-parent history is searched by default (rollback: `settings.rollback.historyDepth`). */
export const DEFAULT_HISTORY_DEPTH = 1000;

/** A prefix ending in '/' names a directory; otherwise it names a file or a directory. */
function normalisePrefix(prefix: string): string {
  return prefix.replace(/^\/+/, '').replace(/^\.\//, '');
}

function underPrefix(path: string, prefix: string): boolean {
  if (!prefix) return true;
  if (prefix.endsWith('/')) return path.startsWith(prefix);
  return path === prefix || path.startsWith(`${prefix}/`);
}

async function collectFiles(store: ObjectStore, tree: string, base: string, out: Map<string, string>): Promise<void> {
  for (const entry of await store.readTree(tree)) {
    const path = `${base}${entry.name}`;
    if (entry.mode === '40000') await collectFiles(store, entry.oid, `${path}/`, out);
    else if (entry.mode !== '160000') out.set(path, entry.oid);
  }
}

/** Every file (path → blob oid) under `prefixes` in the tree `root`. */
export async function filesUnder(store: ObjectStore, root: string, prefixes: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const raw of prefixes) {
    const prefix = normalisePrefix(raw);
    const dir = prefix.replace(/\/+$/, '');
    if (!dir) {
      await collectFiles(store, root, '', out);
      continue;
    }
    const found = await readPath(store, root, dir);
    if (!found) continue;
    if (found.mode === '40000') await collectFiles(store, found.oid, `${dir}/`, out);
    else if (!prefix.endsWith('/')) out.set(dir, found.oid);
  }
  return out;
}

/** A TreeView holding the files under `prefixes` of tree `root`, read eagerly (TreeView is synchronous). */
export async function treeViewAt(store: ObjectStore, root: string, prefixes: string[]): Promise<TreeView> {
  const files = await filesUnder(store, root, prefixes);
  const contents = new Map<string, string>();
  for (const [path, oid] of files) contents.set(path, (await store.readBlob(oid)).toString('utf8'));
  const sorted = [...contents.keys()].sort();
  return {
    read: (path) => contents.get(normalisePrefix(path)),
    list: (prefix) => (prefix ? sorted.filter((p) => underPrefix(p, normalisePrefix(prefix))) : [...sorted]),
  };
}

/** Paths under `prefixes` whose content differs between two trees (either may be null: empty). */
export async function changedUnder(store: ObjectStore, before: string | null, after: string | null, prefixes: string[]): Promise<string[]> {
  const a = before ? await filesUnder(store, before, prefixes) : new Map<string, string>();
  const b = after ? await filesUnder(store, after, prefixes) : new Map<string, string>();
  const changed = new Set<string>();
  for (const [path, oid] of a) if (b.get(path) !== oid) changed.add(path);
  for (const path of b.keys()) if (!a.has(path)) changed.add(path);
  return [...changed].sort();
}

/** The oids of the subtrees/files at `prefixes`: equal fingerprints mean nothing under them changed. */
async function fingerprint(store: ObjectStore, root: string, prefixes: string[]): Promise<string> {
  const parts: string[] = [];
  for (const prefix of prefixes) {
    const dir = normalisePrefix(prefix).replace(/\/+$/, '');
    parts.push(dir ? ((await readPath(store, root, dir))?.oid ?? '-') : root);
  }
  return parts.join(',');
}

/**
 * History of the branch whose tip is `tip`, following first parents. `scope` limits the TreeViews `treeAt` returns
 * (the service's paths and `.arbiter/`).
 */
export function historyViewAt(store: ObjectStore, tip: string, scope: string[], maxDepth = DEFAULT_HISTORY_DEPTH): HistoryView {
  return {
    async onFirstParentHistory(target, depth) {
      let oid: string | undefined = tip;
      for (let d = 0; oid && d < depth; d++) {
        if (oid === target) return true;
        oid = (await readCommit(store, oid)).parents[0];
      }
      return false;
    },
    async commitsTouching(paths, limit = 50, depth = maxDepth) {
      const out: HistoryCommit[] = [];
      let oid: string | undefined = tip;
      for (let d = 0; oid && d < depth && out.length < limit; d++) {
        const commit = await readCommit(store, oid);
        const parent = commit.parents[0];
        const parentTree = parent ? (await readCommit(store, parent)).tree : null;
        const here = await fingerprint(store, commit.tree, paths);
        const there = parentTree ? await fingerprint(store, parentTree, paths) : paths.map(() => '-').join(',');
        if (here !== there) {
          const action = parseTrailers(commit.message)['Arbiter-Action'];
          out.push({ oid, parents: commit.parents, message: commit.message, changed: await changedUnder(store, parentTree, commit.tree, paths), arbiterAction: action ?? null });
        }
        oid = parent;
      }
      return out;
    },
    async treeAt(oid) {
      return treeViewAt(store, (await readCommit(store, oid)).tree, scope);
    },
  };
}
