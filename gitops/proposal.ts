// What arbiter proposed in a pull request, as a change set (path → new blob id, or null for a deletion), and the same
// change set read back from any commit. Audit accepts a reviewer's merge of arbiter's pull request only when the
// merge changed exactly what arbiter proposed (DESIGN §6 Audit).
import type { FileEdit } from '../actions/types.ts';
import { hashObject, type ObjectStore } from './objects.ts';

/** path → blob id after the change, or null when the path is deleted. */
export type ChangeSet = Record<string, string | null>;

/** The change set of planned edits (recorded in the ledger entry of an approval decision). */
export function proposalOf(edits: FileEdit[]): ChangeSet {
  const out: ChangeSet = {};
  for (const e of [...edits].sort((a, b) => a.path.localeCompare(b.path))) {
    out[e.path] = e.after === null ? null : hashObject('blob', Buffer.from(e.after, 'utf8'));
  }
  return out;
}

/** Every file whose blob (or mode) differs between two trees; subtrees with equal ids are not opened. */
export async function treeChanges(store: ObjectStore, before: string | null, after: string | null): Promise<ChangeSet> {
  const out: ChangeSet = {};
  const walk = async (a: string | null, b: string | null, base: string): Promise<void> => {
    if (a === b) return;
    const left = new Map((a ? await store.readTree(a) : []).map((e) => [e.name, e]));
    const right = new Map((b ? await store.readTree(b) : []).map((e) => [e.name, e]));
    for (const name of new Set([...left.keys(), ...right.keys()])) {
      const l = left.get(name);
      const r = right.get(name);
      if (l && r && l.oid === r.oid && l.mode === r.mode) continue;
      const path = `${base}${name}`;
      const lTree = l?.mode === '40000' ? l.oid : null;
      const rTree = r?.mode === '40000' ? r.oid : null;
      if (lTree || rTree) await walk(lTree, rTree, `${path}/`);
      if (l && l.mode !== '40000' && (!r || r.mode === '40000')) out[path] = null;
      if (r && r.mode !== '40000') out[path] = r.mode === '100644' ? r.oid : `${r.mode}:${r.oid}`;
    }
  };
  await walk(before, after, '');
  return out;
}

/** The paths on which two change sets differ (empty: the same change). */
export function changeSetDifference(a: ChangeSet, b: ChangeSet): string[] {
  const paths = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...paths].filter((p) => !(p in a) || !(p in b) || a[p] !== b[p]).sort();
}
