// rollback: restore the service's paths to the last known-good revision — `toRevision`, else the first
// parent of the most recent commit that changed them (arbiter's own commits are not culprits).
import { z } from 'zod';
import { invertEdits } from './compensation.ts';
import { isInsidePaths, validateServicePaths } from './manifests.ts';
import type { ActionDefinition, FileEdit, HistoryCommit, Plan, PlanInput, TreeView } from './types.ts';
import { PlanRefusedError } from './types.ts';
import { parseImageRef } from './image-ref.ts';

const params = z
  .object({
    toRevision: z.string().regex(/^[0-9a-f]{7,64}$/, 'must be a commit id (hex)').optional(),
    /** Filled in by the plan for the commit subject: the image tag the rollback returns to. */
    toVersion: z.string().max(128).optional(),
  })
  .strict();

/** Commits arbiter itself wrote carry an `Arbiter-Action:` trailer; rolling those back is compensation's job. */
const isArbiterCommit = (c: HistoryCommit): boolean => /^Arbiter-Action:\s*\S+/m.test(c.message);

function filesUnder(tree: TreeView, paths: string[]): string[] {
  return [...new Set(paths.flatMap((p) => tree.list(p)))].filter((f) => isInsidePaths(f, paths));
}

/** The image tag visible on the lines the rollback restores (`newTag: 1.4.1`, `image: repo:1.4.1`, `tag: "1.4.1"`). */
export function restoredVersion(edits: FileEdit[]): string | undefined {
  for (const e of edits) {
    const before = new Set((e.before ?? '').split('\n'));
    for (const line of (e.after ?? '').split('\n')) {
      if (before.has(line)) continue;
      const tag = /^\s*(?:-\s+)?(?:newTag|tag):\s*["']?([A-Za-z0-9_][A-Za-z0-9_.-]*)["']?\s*(#.*)?$/.exec(line);
      if (tag) return tag[1];
      const image = /^\s*(?:-\s+)?image:\s*["']?([^\s"'#]+)["']?/.exec(line);
      if (image) {
        const ref = parseImageRef(image[1]!);
        if (ref.tag) return ref.tag;
      }
    }
  }
  return undefined;
}

export const rollback: ActionDefinition<typeof params> = {
  kind: 'rollback',
  params,
  risk: 'medium',
  verification: { metric: 'errorRate', direction: 'decrease', window: '10m' },
  describe: (action) => {
    const { toVersion, toRevision } = action.params;
    if (typeof toVersion === 'string') return `roll back to ${toVersion}`;
    if (typeof toRevision === 'string') return `roll back to ${toRevision.slice(0, 12)}`;
    return 'roll back to the previous revision';
  },
  async plan(input: PlanInput): Promise<Plan> {
    const { tree, action, service, history } = input;
    const p = params.parse(action.params);
    const paths = validateServicePaths(service.paths);
    if (!history) throw new PlanRefusedError('rollback needs the Git history of the target branch, and none was given');
    const notes: string[] = [];
    let target = p.toRevision;
    if (!target) {
      const commits = await history.commitsTouching(paths, 200);
      const culprit = commits.find((c) => !isArbiterCommit(c));
      if (!culprit) throw new PlanRefusedError(`no commit in history changed ${paths.join(', ')}: nothing to roll back`);
      const parent = culprit.parents[0];
      if (!parent) throw new PlanRefusedError(`commit ${culprit.oid.slice(0, 12)} created ${paths.join(', ')}; there is no earlier state`);
      target = parent;
      notes.push(`last change to the service: ${culprit.oid.slice(0, 12)} "${culprit.message.split('\n')[0]}"; restoring its parent ${parent.slice(0, 12)}`);
    } else notes.push(`restoring ${paths.join(', ')} as of ${target.slice(0, 12)} (toRevision)`);
    let good: TreeView;
    try {
      good = await history.treeAt(target);
    } catch (err) {
      throw new PlanRefusedError(`revision ${target} is not in the history of the target branch (${err instanceof Error ? err.message : String(err)})`);
    }
    const edits: FileEdit[] = [];
    for (const path of [...new Set([...filesUnder(tree, paths), ...filesUnder(good, paths)])].sort()) {
      const before = tree.read(path) ?? null;
      const after = good.read(path) ?? null;
      if (before !== after) edits.push({ path, before, after });
    }
    if (edits.length > 0) notes.push(`restores ${edits.map((e) => e.path).join(', ')}`);
    const toVersion = restoredVersion(edits);
    return { edits, notes, applied: { ...action, params: { toRevision: target, ...(toVersion ? { toVersion } : {}) } } };
  },
  compensate: invertEdits,
};
