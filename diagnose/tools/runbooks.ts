// Runbooks kept in the GitOps repository (`runbooks/` by default): list them, or read one (trimmed).
import { z } from 'zod';
import { readCommit, readPath } from '../../gitops/commit.ts';
import { filesUnder } from '../../gitops/history.ts';
import { readFileAt, type RepositorySnapshot } from './repository.ts';
import type { InvestigationTool } from './tool.ts';

const MAX_RUNBOOK_CHARS = 8000;

/** The runbook tool, or undefined when the branch has no runbook directory (then it is not offered). */
export async function runbookTool(snapshot: RepositorySnapshot, dir = 'runbooks'): Promise<InvestigationTool<{ path?: string }> | undefined> {
  if (!snapshot.tip) return undefined;
  const root = (await readCommit(snapshot.repo.store, snapshot.tip)).tree;
  const found = await readPath(snapshot.repo.store, root, dir);
  if (!found || found.mode !== '40000') return undefined;
  const files = [...(await filesUnder(snapshot.repo.store, root, [`${dir}/`])).keys()].filter((p) => /\.(md|txt|ya?ml)$/i.test(p)).sort().slice(0, 200);
  return {
    name: 'read_runbook',
    description: `Runbooks from the GitOps repository (${dir}/). Without a path: the list of runbooks. With a path from that list: its text (trimmed).`,
    input: z.object({ path: z.string().max(300).optional() }).strict(),
    async run({ path }) {
      if (path === undefined) return { runbooks: files };
      if (!files.includes(path)) throw new Error(`no runbook ${JSON.stringify(path.slice(0, 100))}; call read_runbook without a path for the list`);
      const text = (await readFileAt(snapshot, snapshot.tip, path)) ?? '';
      return { path, text: text.length > MAX_RUNBOOK_CHARS ? `${text.slice(0, MAX_RUNBOOK_CHARS)}\n… trimmed` : text };
    },
  };
}
