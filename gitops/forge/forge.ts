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

/** Where a pull request stands: what reconcile needs to start (or cancel) an approval-mode decision's follow-up. */
export interface PullRequestStatus {
  number: number;
  url: string;
  state: 'open' | 'closed';
  merged: boolean;
  /** RFC 3339, when merged; the start of the follow-up's clock. */
  mergedAt: string | null;
  /** The commit the merge put on the base branch (merge, squash or the last rebased commit); only meaningful once merged. */
  mergeCommitSha: string | null;
  closedAt: string | null;
  /** The branch the pull request targets. */
  base: string;
}

export interface Forge {
  /** The open pull request from `branch`, or whose body carries `Arbiter-Idempotency-Key: <idempotencyKey>`. */
  findOpenPullRequest(query: { branch?: string; idempotencyKey?: string }): Promise<PullRequest | undefined>;
  /** Opens a pull request, or updates the open one for the same branch or key (never a duplicate). */
  openOrUpdatePullRequest(spec: PullRequestSpec): Promise<PullRequest & { created: boolean }>;
  /** The state of pull request `number`, or undefined when the forge does not know it (optional: reconcile then reads the branch). */
  getPullRequest?(number: number): Promise<PullRequestStatus | undefined>;
}

/**
 * An incident id as one valid ref-name component (`git check-ref-format`): the schema admits ids git refuses in a ref
 * (`INC:1`, `.hidden`, `x.`, `x.lock`). Characters other than `[A-Za-z0-9._-]` become `-`, as do a leading or trailing
 * dot, a run of dots, and the `.lock` suffix's dot. Not injective, and need not be: the branch name also carries the
 * idempotency key, and the exact incident is in the commit's trailers.
 */
export function refComponent(incident: string): string {
  const safe = incident
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/\.{2,}/g, '-')
    .replace(/^\./, '-')
    .replace(/\.$/, '-')
    .replace(/\.lock$/i, '-lock');
  return safe || '-';
}

/** `arbiter/<incident as a ref component>/<kind>-<first 8 hex of the idempotency key>` (DESIGN §6). */
export function pullRequestBranch(incident: string, kind: string, idempotencyKey: string): string {
  const hex = idempotencyKey.replace(/^sha256:/, '').slice(0, 8);
  return `arbiter/${refComponent(incident)}/${kind}-${hex}`;
}

export function bodyCarriesKey(body: string | null | undefined, key: string): boolean {
  return !!body && body.split('\n').some((line) => line.trim() === `Arbiter-Idempotency-Key: ${key}`);
}
