// The runner's view of the outside world: `act` from gitops/ (the library form of `arbiter act`), the loopback smart
// HTTP git server and the GitHub stand-in from test/support/. Everything the runner needs from other modules goes
// through this file, so a change in their API is absorbed here.
import { readFile } from 'node:fs/promises';
import type { Decision } from '../../engine/types.ts';
import { act, type BundleLike } from '../../gitops/act.ts';
import type { Forge, PullRequest, PullRequestSpec } from '../../gitops/forge/forge.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { startGitHttpServer } from '../../test/support/git-http.ts';

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

export interface Loopback {
  /** Directory whose bare repositories are served; `<root>/<name>.git`. */
  readonly root: string;
  repoUrl(name: string): string;
  /** The forge `act` talks to for repository `name`, and what it recorded. */
  forge(name: string): Forge;
  pullRequests(name: string): Promise<RecordedPullRequest[]>;
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

/** A forge that keeps pull requests in memory, per repository (used until a loopback GitHub stand-in is wired). */
class RecordingForge implements Forge {
  readonly pulls: RecordedPullRequest[] = [];
  readonly #heads = new Map<number, string>();
  constructor(private readonly name: string) {}

  async findOpenPullRequest(query: { branch?: string; idempotencyKey?: string }): Promise<PullRequest | undefined> {
    const pr = this.pulls.find((p) => p.state === 'open' && ((query.branch && p.head === query.branch) || (query.idempotencyKey && p.body.includes(`Arbiter-Idempotency-Key: ${query.idempotencyKey}`))));
    return pr && this.#view(pr);
  }

  async openOrUpdatePullRequest(spec: PullRequestSpec): Promise<PullRequest & { created: boolean }> {
    const existing = this.pulls.find((p) => p.state === 'open' && p.head === spec.branch);
    const pr = existing ?? { number: this.pulls.length + 1, title: '', body: '', head: spec.branch, base: spec.base, labels: [], reviewers: [], state: 'open' };
    Object.assign(pr, { title: spec.title, body: spec.body, base: spec.base, labels: [...spec.labels], reviewers: [...spec.reviewers] });
    if (!existing) this.pulls.push(pr);
    return { ...this.#view(pr), created: !existing };
  }

  #view(pr: RecordedPullRequest): PullRequest {
    return { number: pr.number, url: `https://forge.invalid/${this.name}/pull/${pr.number}`, branch: pr.head, headSha: this.#heads.get(pr.number) ?? '', title: pr.title, body: pr.body };
  }
}

/** Serves `root` over loopback smart HTTP (stock `git http-backend`) and provides a forge per repository. */
export async function startLoopback(root: string): Promise<Loopback> {
  const server = await startGitHttpServer({ root });
  const forges = new Map<string, RecordingForge>();
  const forgeFor = (name: string) => {
    let forge = forges.get(name);
    if (!forge) forges.set(name, (forge = new RecordingForge(name)));
    return forge;
  };
  return {
    root,
    repoUrl: (name) => server.repoUrl(`${name}.git`),
    forge: forgeFor,
    pullRequests: async (name) => forgeFor(name).pulls,
    close: () => server.close(),
  };
}
