// arbiter's own decisions about the service: ledger entries (decisions, verifications, compensations) of the last days,
// read by date directory so the cost is bounded by the window, never by the size of the ledger.
import { z } from 'zod';
import { readCommit, readPath } from '../../gitops/commit.ts';
import type { RepositorySnapshot } from './repository.ts';
import type { InvestigationTool } from './tool.ts';

const MAX_ENTRIES_READ = 500;

type Entry = Record<string, any>;

function serviceOf(e: Entry): string | undefined {
  return e.kind === 'Decision' ? (e.action?.target?.service ?? e.target?.service) : e.target?.service;
}

function summary(e: Entry): Record<string, unknown> {
  if (e.kind === 'Decision') {
    return { kind: 'Decision', id: e.id, incident: e.incident, at: e.decidedAt, mode: e.mode, action: e.action?.kind ?? null, support: e.support, committed: Boolean(e.actuation?.commit) };
  }
  return { kind: e.kind, id: e.id, decision: e.decision, incident: e.incident, at: e.at, outcome: e.outcome, detail: typeof e.detail === 'string' ? e.detail.slice(0, 200) : undefined };
}

export function ledgerHistoryTool(snapshot: RepositorySnapshot, service: string, now: () => Date): InvestigationTool<{ days: number; limit: number }> {
  return {
    name: 'ledger_history',
    description: `arbiter's own earlier decisions, verifications and compensations for service ${service} (its decision ledger), newest first. Shows what was already tried and whether it helped.`,
    input: z.object({ days: z.number().int().min(1).max(14).default(3), limit: z.number().int().min(1).max(30).default(15) }).strict(),
    async run({ days, limit }) {
      if (!snapshot.ledgerTip) return { entries: [], note: 'the ledger is empty: arbiter has decided nothing on this repository yet' };
      const store = snapshot.repo.store;
      const root = (await readCommit(store, snapshot.ledgerTip)).tree;
      const end = now();
      const found: Entry[] = [];
      let read = 0;
      for (let i = 0; i < days && read < MAX_ENTRIES_READ; i++) {
        const day = new Date(end.getTime() - i * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '/');
        const dir = await readPath(store, root, `decisions/${day}`);
        if (!dir || dir.mode !== '40000') continue;
        for (const e of await store.readTree(dir.oid)) {
          if (e.mode === '40000' || read++ >= MAX_ENTRIES_READ) continue;
          let entry: Entry;
          try {
            entry = JSON.parse((await store.readBlob(e.oid)).toString('utf8')) as Entry;
          } catch {
            continue;
          }
          const at = Date.parse(entry.decidedAt ?? entry.at ?? '');
          if (serviceOf(entry) === service && at <= end.getTime()) found.push(entry);
        }
      }
      found.sort((a, b) => String(b.decidedAt ?? b.at).localeCompare(String(a.decidedAt ?? a.at)));
      return { service, days, entries: found.slice(0, limit).map(summary), more: Math.max(0, found.length - limit) };
    },
  };
}
