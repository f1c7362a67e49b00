// The GitOps repository as the investigation reads it: one snapshot (branch and ledger tips) taken at the start, read
// through the gitops object store. Nothing here writes a ref, an object or a file (a remote is only fetched into
// arbiter's own cache, as `act` does).
import { parseCalendar, parseCatalog, resolveCatalogService, type CalendarSpec } from '../../engine/context.ts';
import { InputError } from '../../engine/errors.ts';
import type { Catalog, CatalogService } from '../../engine/types.ts';
import { readCommit, readPath } from '../../gitops/commit.ts';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { Repository } from '../../gitops/repo.ts';

export interface RepositorySnapshot {
  repo: Repository;
  branch: string;
  /** Tip of the GitOps branch; null when it does not exist. */
  tip: string | null;
  ledgerTip: string | null;
  close(): void;
}

/** Opens `location` (path or http(s) URL), brings the branch and the ledger up to date (remotes), within `timeoutMs`. */
export async function openSnapshot(location: string, options: { branch?: string; cacheDir?: string; timeoutMs?: number } = {}): Promise<RepositorySnapshot> {
  const branch = options.branch ?? 'main';
  const repo = await Repository.open(location, options.cacheDir ? { cacheDir: options.cacheDir } : {});
  try {
    const limit = options.timeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      repo.withCacheLock(() => repo.sync([branch, LEDGER_BRANCH])),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new InputError(`could not read the repository within ${limit} ms`, '--repo')), limit))),
    ]).finally(() => clearTimeout(timer));
    return { repo, branch, tip: await repo.tip(branch), ledgerTip: await repo.tip(LEDGER_BRANCH), close: () => repo.store.close() };
  } catch (err) {
    repo.store.close();
    throw err;
  }
}

/** A file's text at a commit, or undefined when absent (or not a file). */
export async function readFileAt(snapshot: RepositorySnapshot, commit: string | null, path: string): Promise<string | undefined> {
  if (!commit) return undefined;
  const found = await readPath(snapshot.repo.store, (await readCommit(snapshot.repo.store, commit)).tree, path);
  if (!found || found.mode === '40000' || found.mode === '160000') return undefined;
  return (await snapshot.repo.store.readBlob(found.oid)).toString('utf8');
}

/** The catalog and calendar on the branch tip (each absent when the file is). Invalid files are errors. */
export async function catalogAt(snapshot: RepositorySnapshot): Promise<{ catalog?: Catalog; calendar?: CalendarSpec }> {
  const catalogText = await readFileAt(snapshot, snapshot.tip, '.arbiter/catalog.yaml');
  const calendarText = await readFileAt(snapshot, snapshot.tip, '.arbiter/calendar.yaml');
  return {
    ...(catalogText !== undefined ? { catalog: parseCatalog(catalogText, '.arbiter/catalog.yaml') } : {}),
    ...(calendarText !== undefined ? { calendar: parseCalendar(calendarText, '.arbiter/calendar.yaml') } : {}),
  };
}

export async function serviceEntry(snapshot: RepositorySnapshot, service: string): Promise<{ entry: CatalogService; known: boolean }> {
  return resolveCatalogService((await catalogAt(snapshot)).catalog, service);
}
