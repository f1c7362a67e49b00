// The runner's view of the outside world: `act` from gitops/ (the library form of `arbiter act`), the loopback smart
// HTTP git server and the GitHub stand-in from test/support/. Everything the runner needs from other modules goes
// through this file, so a change in their API is absorbed here.
import { readFile } from 'node:fs/promises';
import type { Decision } from '../../engine/types.ts';
import { act, type BundleLike } from '../../app/act.ts';
import type { Forge } from '../../gitops/forge/forge.ts';
import { createForge } from '../../gitops/forge/registry.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { startGitHttpServer } from './git-http.ts';
import { startGitHubStandin } from './github-standin.ts';
import { startGitLabStandin } from './gitlab-standin.ts';

export interface ActRequest {
  diagnosisFile: string;
  context?: Record<string, unknown>;
  /** `context.now`: the scenario's clock (never the wall clock, so scenarios are reproducible). */
  now: string;
  bundleDir: string;
  repoUrl: string;
  branch: string;
  signingKeyFile: string;
  cacheDir: string;
  forge: Forge;
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

export interface ScenarioForge {
  forge: Forge;
  pullRequests(): Promise<RecordedPullRequest[]>;
  close(): Promise<void>;
}

export interface Loopback {
  /** Directory whose bare repositories are served; `<root>/<name>.git`. */
  readonly root: string;
  repoUrl(name: string): string;
  /** A loopback GitHub or GitLab (REST wire format) for repository `name`, the pull requests it recorded, and its shutdown. */
  startForge(name: string, gitDir: string): Promise<ScenarioForge>;
  close(): Promise<void>;
}

const bundles = new Map<string, Promise<BundleLike>>();

/** Loads each bundle once per process: every scenario naming it shares the compiled policies. */
function bundleAt(dir: string): Promise<BundleLike> {
  let bundle = bundles.get(dir);
  if (!bundle) {
    bundle = import('../../engine/bundle.ts').then((m) => m.loadBundle(dir) as Promise<BundleLike>);
    bundles.set(dir, bundle);
    bundle.catch(() => bundles.delete(dir));
  }
  return bundle;
}

export async function actOnce(request: ActRequest): Promise<ActOutcome> {
  const signer = sshSigner(await readFile(request.signingKeyFile, 'utf8'), request.signingKeyFile);
  const result = await act({
    diagnosis: request.diagnosisFile,
    context: request.context,
    now: request.now,
    bundle: await bundleAt(request.bundleDir),
    repo: request.repoUrl,
    branch: request.branch,
    signer,
    forge: request.forge,
    cacheDir: request.cacheDir,
  });
  return { decision: result.decision, actuation: { commit: result.actuation.commit, branch: result.actuation.branch, pullRequest: result.actuation.pullRequest } };
}

/** The forges the runner can stand in for. */
export const SCENARIO_FORGES = ['github', 'gitlab'] as const;
export type ScenarioForgeId = (typeof SCENARIO_FORGES)[number];

/** Serves `root` over loopback smart HTTP (stock `git http-backend`); each scenario gets its own forge stand-in. */
export async function startLoopback(root: string, forgeId: ScenarioForgeId = 'github'): Promise<Loopback> {
  const server = await startGitHttpServer({ root });
  return {
    root,
    repoUrl: (name) => server.repoUrl(`${name}.git`),
    async startForge(name, gitDir) {
      const repository = `shop/${name}`;
      const token = 'scenario-token';
      if (forgeId === 'gitlab') {
        const gitlab = await startGitLabStandin({ repos: { [repository]: gitDir }, token });
        return {
          forge: createForge('gitlab', { url: gitlab.url, repo: repository, token, rateLimitRetries: 0 }),
          pullRequests: async () =>
            gitlab.mergeRequests(repository).map((mr) => ({
              number: mr.iid,
              title: mr.title,
              body: mr.description,
              head: mr.sourceBranch,
              base: mr.targetBranch,
              labels: mr.labels,
              reviewers: mr.reviewers,
              state: mr.state === 'opened' ? 'open' : 'closed',
            })),
          close: () => gitlab.close(),
        };
      }
      const github = await startGitHubStandin({ repos: { [repository]: gitDir }, token });
      return {
        forge: createForge('github', { url: github.url, repo: repository, token, rateLimitRetries: 0 }),
        pullRequests: async () => github.pulls(repository).map((p) => ({ ...p, reviewers: [...p.reviewers, ...p.teamReviewers] })),
        close: () => github.close(),
      };
    },
    close: () => server.close(),
  };
}
