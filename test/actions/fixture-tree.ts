// Test doubles for the action library: a TreeView over a fixture directory (or a map), and a line diff.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileEdit, HistoryCommit, HistoryView, TreeView } from '../../actions/types.ts';
import { parseTrailers } from '../../gitops/message.ts';

export const SHOP = fileURLToPath(new URL('../fixtures/repos/shop/', import.meta.url));

export class MemoryTree implements TreeView {
  constructor(readonly files: Map<string, string>) {}

  static fromDir(dir: string): MemoryTree {
    const files = new Map<string, string>();
    const walk = (d: string): void => {
      for (const name of readdirSync(d)) {
        const full = join(d, name);
        if (statSync(full).isDirectory()) walk(full);
        else files.set(relative(dir, full).split('\\').join('/'), readFileSync(full, 'utf8'));
      }
    };
    walk(dir);
    return new MemoryTree(files);
  }

  read(path: string): string | undefined {
    return this.files.get(path);
  }

  list(prefix = ''): string[] {
    return [...this.files.keys()].filter((p) => p.startsWith(prefix)).sort();
  }

  with(edits: FileEdit[]): MemoryTree {
    const files = new Map(this.files);
    for (const e of edits) {
      if (e.after === null) files.delete(e.path);
      else files.set(e.path, e.after);
    }
    return new MemoryTree(files);
  }

  withFile(path: string, source: string | null): MemoryTree {
    return this.with([{ path, before: this.read(path) ?? null, after: source }]);
  }
}

export const shopTree = (): MemoryTree => MemoryTree.fromDir(SHOP);

export const ROOT_OID = 'e'.repeat(40);

/** A linear history: commits oldest first, each replacing files of the previous tree. */
export function linearHistory(
  base: MemoryTree,
  commits: Array<{ oid: string; message: string; files: Record<string, string | null> }>,
  /** Commits that exist in the object store but are not on the branch (another branch, the ledger). */
  elsewhere: Record<string, MemoryTree> = {},
) {
  const trees = new Map<string, MemoryTree>([[ROOT_OID, base], ...Object.entries(elsewhere)]);
  const log: HistoryCommit[] = [];
  let tree = base;
  let parent = ROOT_OID;
  for (const c of commits) {
    for (const [p, s] of Object.entries(c.files)) tree = tree.withFile(p, s);
    trees.set(c.oid, tree);
    log.unshift({ oid: c.oid, parents: [parent], message: c.message, changed: Object.keys(c.files), arbiterAction: parseTrailers(c.message)['Arbiter-Action'] ?? null });
    parent = c.oid;
  }
  log.push({ oid: ROOT_OID, parents: [], message: 'initial', changed: base.list(), arbiterAction: null });
  const history: HistoryView = {
    async commitsTouching(paths, limit = Infinity, depth = Infinity) {
      return log.slice(0, depth).filter((c) => c.changed.some((f) => paths.some((p) => f.startsWith(p)))).slice(0, limit);
    },
    async onFirstParentHistory(oid, depth) {
      return log.slice(0, depth).some((c) => c.oid === oid);
    },
    async treeAt(oid) {
      const t = trees.get(oid);
      if (!t) throw new Error(`unknown revision ${oid}`);
      return t;
    },
  };
  return { tree, history };
}

/** Minimal line diff (LCS): only `-removed` and `+added` lines, in file order. */
export function lineDiff(before: string | null, after: string | null): string[] {
  const a = (before ?? '').split('\n');
  const b = (after ?? '').split('\n');
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push(`-${a[i++]}`);
    else out.push(`+${b[j++]}`);
  }
  return out;
}

export const diffs = (edits: FileEdit[]): Record<string, string[]> => Object.fromEntries(edits.map((e) => [e.path, lineDiff(e.before, e.after)]));
