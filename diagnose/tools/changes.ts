// The service's recent changes: commits on the GitOps branch that touch its catalog paths, newest first, each with
// its changed files and a unified diff trimmed to a few lines per file.
import { createTwoFilesPatch } from 'diff';
import { z } from 'zod';
import { readCommit } from '../../gitops/commit.ts';
import { filesUnder, historyViewAt } from '../../gitops/history.ts';
import type { RepositorySnapshot } from './repository.ts';
import { serviceEntry } from './repository.ts';
import type { InvestigationTool } from './tool.ts';

const MAX_DIFF_LINES_PER_FILE = 60;
const MAX_DIFF_CHARS_PER_COMMIT = 4000;
const MAX_HISTORY_DEPTH = 500;

function trimDiff(patch: string): string {
  const lines = patch.split('\n').slice(2); // the ==== and Index lines of createTwoFilesPatch say nothing
  if (lines.length <= MAX_DIFF_LINES_PER_FILE) return lines.join('\n');
  return `${lines.slice(0, MAX_DIFF_LINES_PER_FILE).join('\n')}\n… ${lines.length - MAX_DIFF_LINES_PER_FILE} more lines`;
}

/** `Name <email> 1700000000 +0100` → `Name`. */
function personName(line: string): string {
  return line.replace(/\s*<[^>]*>.*$/, '').slice(0, 100);
}

export function recentChangesTool(snapshot: RepositorySnapshot, service: string, now: () => Date): InvestigationTool<{ limit: number; days: number }> {
  return {
    name: 'recent_changes',
    description: `Recent commits on the GitOps branch touching the manifests of service ${service} (its catalog paths), newest first, with changed files and trimmed diffs. A deployment, image tag, config or replica change shortly before the incident is strong evidence.`,
    input: z.object({ limit: z.number().int().min(1).max(10).default(5), days: z.number().int().min(1).max(30).default(7) }).strict(),
    async run({ limit, days }) {
      const { entry, known } = await serviceEntry(snapshot, service);
      if (!snapshot.tip) return { commits: [], note: `the branch ${snapshot.branch} does not exist` };
      if (entry.paths.length === 0) return { commits: [], note: known ? `the catalog lists no paths for ${service}` : `${service} is not in the catalog (.arbiter/catalog.yaml)` };
      const store = snapshot.repo.store;
      const since = now().getTime() - days * 86_400_000;
      const touching = await historyViewAt(store, snapshot.tip, entry.paths, MAX_HISTORY_DEPTH).commitsTouching(entry.paths, limit);
      const commits = [];
      for (const c of touching) {
        const commit = await readCommit(store, c.oid);
        if (commit.committedAt * 1000 < since) break;
        const parentTree = commit.parents[0] ? (await readCommit(store, commit.parents[0])).tree : null;
        const before = parentTree ? await filesUnder(store, parentTree, entry.paths) : new Map<string, string>();
        const after = await filesUnder(store, commit.tree, entry.paths);
        let diff = '';
        for (const path of c.changed) {
          const a = before.get(path) ? (await store.readBlob(before.get(path)!)).toString('utf8') : '';
          const b = after.get(path) ? (await store.readBlob(after.get(path)!)).toString('utf8') : '';
          diff += `${trimDiff(createTwoFilesPatch(`a/${path}`, `b/${path}`, a, b, '', '', { context: 2 }))}\n`;
          if (diff.length > MAX_DIFF_CHARS_PER_COMMIT) break;
        }
        commits.push({
          commit: c.oid.slice(0, 12),
          committedAt: new Date(commit.committedAt * 1000).toISOString(),
          author: personName(commit.author.replace(/^author /, '')),
          message: commit.message.trim().slice(0, 500),
          changed: c.changed.slice(0, 20),
          diff: diff.length > MAX_DIFF_CHARS_PER_COMMIT ? `${diff.slice(0, MAX_DIFF_CHARS_PER_COMMIT)}\n… diff trimmed` : diff,
        });
      }
      return { service, paths: entry.paths, branch: snapshot.branch, commits };
    },
  };
}
