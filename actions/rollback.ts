// rollback: restore the service's paths to the last known-good revision (DESIGN §5) — `toRevision`, which must be a
// full commit id on the target branch's first-parent history, else the first parent of the most recent commit that
// changed them. arbiter's own commits are not culprits; after arbiter's own rollback (and only arbiter's own changes
// since) a second rollback is a no-op. Only the service's catalog paths are restored, and never to an empty state.
import { z } from 'zod';
import { invertEdits } from './compensation.ts';
import { isInsidePaths, validateServicePaths } from './manifests.ts';
import type { ActionDefinition, FileEdit, HistoryCommit, Plan, PlanInput, TreeView } from './types.ts';
import { PlanRefusedError } from './types.ts';
import { parseImageRef } from './image-ref.ts';

/** Matches `gitops/history.ts`: how far back rollback searches when the bundle does not say. */
const DEFAULT_HISTORY_DEPTH = 1000;

const params = z
  .object({
    // any revision-looking text passes the schema; the plan accepts only a full commit id on the branch's first-parent
    // history and refuses anything else with the reason (recorded in the ledger as an escalation)
    toRevision: z.string().regex(/^[A-Za-z0-9._~^@{}-]{1,128}$/, 'must be a commit id').optional(),
    /** Filled in by the plan for the commit subject: the image tag the rollback returns to. */
    toVersion: z.string().max(128).optional(),
  })
  .strict();

const FULL_COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** `settings.rollback.historyDepth` from the bundle, else the default. */
function historyDepth(settings: Record<string, unknown> | undefined): number {
  const depth = (settings?.rollback as { historyDepth?: unknown } | undefined)?.historyDepth;
  return typeof depth === 'number' && Number.isInteger(depth) && depth > 0 ? depth : DEFAULT_HISTORY_DEPTH;
}

/** Commits arbiter itself wrote carry an `Arbiter-Action` trailer; rolling those back is compensation's job. */
const isArbiterCommit = (c: HistoryCommit): boolean => c.arbiterAction !== null;
const isArbiterRollback = (c: HistoryCommit): boolean => c.arbiterAction?.toLowerCase() === 'rollback';

/** The newest arbiter rollback with only arbiter's own non-rollback commits after it: its state is the last known-good one. */
function standingRollback(commits: HistoryCommit[]): HistoryCommit | undefined {
  for (const c of commits) {
    if (isArbiterRollback(c)) return c;
    if (!isArbiterCommit(c)) return undefined;
  }
  return undefined;
}

/** Files under `paths` with their contents. */
function snapshot(tree: TreeView, paths: string[]): Map<string, string> {
  return new Map(filesUnder(tree, paths).map((f) => [f, tree.read(f) ?? '']));
}

function sameSnapshot(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

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
    const depth = historyDepth(input.settings);
    const notes: string[] = [];
    const commits = await history.commitsTouching(paths, 200, depth);
    const standing = standingRollback(commits);
    let target = p.toRevision;
    if (target !== undefined) {
      // DESIGN §5: only a state the branch really had: a full commit id on its first-parent history
      if (!FULL_COMMIT_ID.test(target)) {
        throw new PlanRefusedError(`toRevision ${JSON.stringify(target)} is not a full commit id: rollback restores only a commit named by its full id on the target branch's first-parent history`);
      }
      if (!(await history.onFirstParentHistory(target, depth))) {
        throw new PlanRefusedError(`toRevision ${target} is not on the first-parent history of the target branch (searched ${depth} commits): rollback restores only states the branch really had`);
      }
      notes.push(`restoring ${paths.join(', ')} as of ${target.slice(0, 12)} (toRevision)`);
    } else {
      if (standing) {
        return {
          edits: [],
          notes: [`the last change to the service was already rolled back by arbiter in ${standing.oid.slice(0, 12)}, with only arbiter's own changes since: nothing to roll back`],
          applied: { ...action, params: {} },
        };
      }
      const culprit = commits.find((c) => !isArbiterCommit(c));
      if (!culprit) throw new PlanRefusedError(`no commit in the last ${depth} of the target branch changed ${paths.join(', ')}: nothing to roll back`);
      const parent = culprit.parents[0];
      if (!parent) throw new PlanRefusedError(`commit ${culprit.oid.slice(0, 12)} created ${paths.join(', ')}; there is no earlier state`);
      target = parent;
      notes.push(`last change to the service: ${culprit.oid.slice(0, 12)} "${culprit.message.split('\n')[0]}"; restoring its parent ${parent.slice(0, 12)}`);
    }
    let good: TreeView;
    try {
      good = await history.treeAt(target);
    } catch (err) {
      throw new PlanRefusedError(`revision ${target} is not in the history of the target branch (${err instanceof Error ? err.message : String(err)})`);
    }
    const restored = snapshot(good, paths);
    if (restored.size === 0) {
      throw new PlanRefusedError(`revision ${target.slice(0, 12)} has no files under ${paths.join(', ')}: restoring it would delete the service's manifests`);
    }
    // a second rollback to the state arbiter's standing rollback restored must not undo arbiter's later changes
    if (standing && sameSnapshot(restored, snapshot(await history.treeAt(standing.oid), paths))) {
      return {
        edits: [],
        notes: [`${target.slice(0, 12)} is the state arbiter's rollback ${standing.oid.slice(0, 12)} already restored: nothing to roll back`],
        applied: { ...action, params: { toRevision: target } },
      };
    }
    const edits: FileEdit[] = [];
    for (const path of [...new Set([...filesUnder(tree, paths), ...restored.keys()])].sort()) {
      const before = tree.read(path) ?? null;
      const after = restored.get(path) ?? null;
      if (before !== after) edits.push({ path, before, after });
    }
    if (edits.length > 0) notes.push(`restores ${edits.map((e) => e.path).join(', ')}`);
    const toVersion = restoredVersion(edits);
    return { edits, notes, applied: { ...action, params: { toRevision: target, ...(toVersion ? { toVersion } : {}) } } };
  },
  compensate: invertEdits,
};
