// The forge behind arbiter's pull requests (approval mode). GitHub today (`github.ts`); GitLab or Gitea implement
// the same two calls without touching the core.

export interface PullRequestSpec {
  /** Head branch, `arbiter/<incident>/<kind>-<first 8 hex of key>`. */
  branch: string;
  /** Base branch the change targets. */
  base: string;
  title: string;
  body: string;
  labels: string[];
  /** Users or teams (`org/team`) asked to review: the catalog's owners. */
  reviewers: string[];
  idempotencyKey: string;
}

export interface PullRequest {
  number: number;
  url: string;
  branch: string;
  /** The head commit of the pull request's branch. */
  headSha: string;
  title: string;
  body: string;
}

export interface Forge {
  /** The open pull request from `branch`, or whose body carries `Arbiter-Idempotency-Key: <idempotencyKey>`. */
  findOpenPullRequest(query: { branch?: string; idempotencyKey?: string }): Promise<PullRequest | undefined>;
  /** Opens a pull request, or updates the open one for the same branch or key (never a duplicate). */
  openOrUpdatePullRequest(spec: PullRequestSpec): Promise<PullRequest & { created: boolean }>;
}

/** `arbiter/<incident>/<kind>-<first 8 hex of the idempotency key>` (DESIGN §6). */
export function pullRequestBranch(incident: string, kind: string, idempotencyKey: string): string {
  const hex = idempotencyKey.replace(/^sha256:/, '').slice(0, 8);
  return `arbiter/${incident}/${kind}-${hex}`;
}

export function bodyCarriesKey(body: string | null | undefined, key: string): boolean {
  return !!body && body.split('\n').some((line) => line.trim() === `Arbiter-Idempotency-Key: ${key}`);
}
