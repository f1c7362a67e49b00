// The runner's view of the outside world: `act` from gitops/ (the library form of `arbiter act`), the loopback smart
// HTTP git server and the GitHub stand-in from test/support/. Everything the runner needs from other modules goes
// through this file, so a change in their API is absorbed here.
import type { Decision } from '../../engine/types.ts';

export interface ActRequest {
  diagnosisFile: string;
  contextFile?: string;
  bundleDir: string;
  repoUrl: string;
  branch: string;
  signingKeyFile: string;
  cacheDir: string;
  forge?: { url: string; repo: string; token: string };
}

export interface ActOutcome {
  decision: Decision;
  actuation: { commit: string | null; branch: string | null; pullRequest: { number: number; url: string } | null };
}

/** A pull request as the stand-in recorded it (the fields scenarios check). */
export interface RecordedPullRequest {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  labels: string[];
  reviewers: string[];
  state: string;
}

export interface Loopback {
  /** Directory whose bare repositories are served; `<root>/<name>.git`. */
  readonly root: string;
  repoUrl(name: string): string;
  forge: { url: string; token: string; repoFor(name: string): string; pullRequests(name: string): Promise<RecordedPullRequest[]> };
  close(): Promise<void>;
}

export class DependencyMissingError extends Error {
  readonly code = 'DependencyMissing';
  readonly exitCode = 2;
  constructor(what: string) {
    super(`${what} is not built yet: scenarios cannot run without it`);
    this.name = 'DependencyMissingError';
  }
}

/** Imports a module of another area; a missing one is reported as such rather than as a stack trace. */
async function importModule<T>(specifier: string, what: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (err) {
    if (err && typeof err === 'object' && 'code' in err && err.code === 'ERR_MODULE_NOT_FOUND' && String((err as unknown as Error).message).includes(specifier.split('/').pop()!)) {
      throw new DependencyMissingError(what);
    }
    throw err;
  }
}

type ActModule = { act(options: Record<string, unknown>): Promise<ActOutcome> };

export async function actOnce(request: ActRequest): Promise<ActOutcome> {
  const mod = await importModule<ActModule>('../../gitops/act.ts', 'gitops/act.ts');
  return mod.act({ ...request });
}

export async function startLoopback(_root: string): Promise<Loopback> {
  throw new DependencyMissingError('test/support/git-http.ts');
}
