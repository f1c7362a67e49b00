// The GitHub forge on @octokit/rest, with the retry and throttling plugins (secondary rate limits are common when
// an incident storm opens many pull requests at once).
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { InputError } from '../../engine/errors.ts';
import { bodyCarriesKey, type Forge, type PullRequest, type PullRequestSpec, type PullRequestStatus } from './forge.ts';

const ArbiterOctokit = Octokit.plugin(retry, throttling);

export interface GitHubForgeOptions {
  /** API base URL, e.g. `https://api.github.com` or a GitHub Enterprise `https://host/api/v3`. */
  baseUrl: string;
  /** `OWNER/NAME` */
  repository: string;
  token?: string;
  /** Retries after a rate limit (default 2). */
  rateLimitRetries?: number;
  log?: (line: string) => void;
}

type ApiPullState = ApiPull & { state: string; merged?: boolean; merged_at: string | null; merge_commit_sha: string | null; closed_at: string | null; base: { ref: string } };
type ApiPull = { number: number; html_url: string; title: string; body: string | null; head: { ref: string; sha: string } };

function view(p: ApiPull): PullRequest {
  return { number: p.number, url: p.html_url, branch: p.head.ref, headSha: p.head.sha, title: p.title, body: p.body ?? '' };
}

/** Catalog owners with a '/' (`org/team`, `@org/team`) are team reviewers; the rest are users. */
export function splitReviewers(owners: string[]): { reviewers: string[]; team_reviewers: string[] } {
  const reviewers: string[] = [];
  const team_reviewers: string[] = [];
  for (const raw of owners) {
    const owner = raw.replace(/^@/, '');
    if (owner.includes('/')) team_reviewers.push(owner.slice(owner.indexOf('/') + 1));
    else reviewers.push(owner);
  }
  return { reviewers, team_reviewers };
}

export class GitHubForge implements Forge {
  private readonly octokit: InstanceType<typeof ArbiterOctokit>;
  private readonly owner: string;
  private readonly repo: string;
  private readonly log: (line: string) => void;

  constructor(options: GitHubForgeOptions) {
    const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(options.repository);
    if (!m) throw new InputError('expected OWNER/NAME', 'forge.repo');
    this.owner = m[1]!;
    this.repo = m[2]!;
    this.log = options.log ?? (() => undefined);
    const retries = options.rateLimitRetries ?? 2;
    this.octokit = new ArbiterOctokit({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      ...(options.token ? { auth: options.token } : {}),
      userAgent: 'arbiter',
      throttle: {
        onRateLimit: (after: number, _o: unknown, _k: unknown, count: number) => {
          this.log(`GitHub rate limit; retrying after ${after}s`);
          return count < retries;
        },
        onSecondaryRateLimit: (after: number, _o: unknown, _k: unknown, count: number) => {
          this.log(`GitHub secondary rate limit; retrying after ${after}s`);
          return count < retries;
        },
      },
    });
  }

  async findOpenPullRequest(query: { branch?: string; idempotencyKey?: string }): Promise<PullRequest | undefined> {
    if (query.branch) {
      const { data } = await this.octokit.rest.pulls.list({ owner: this.owner, repo: this.repo, state: 'open', head: `${this.owner}:${query.branch}`, per_page: 10 });
      const hit = (data as ApiPull[]).find((p) => p.head.ref === query.branch);
      if (hit) return view(hit);
    }
    if (query.idempotencyKey) {
      const key = query.idempotencyKey;
      for await (const page of this.octokit.paginate.iterator(this.octokit.rest.pulls.list, { owner: this.owner, repo: this.repo, state: 'open', per_page: 100 })) {
        const hit = (page.data as ApiPull[]).find((p) => p.head.ref.startsWith('arbiter/') && bodyCarriesKey(p.body, key));
        if (hit) return view(hit);
      }
    }
    return undefined;
  }

  async openOrUpdatePullRequest(spec: PullRequestSpec): Promise<PullRequest & { created: boolean }> {
    const existing = (await this.findOpenPullRequest({ branch: spec.branch })) ?? (await this.findOpenPullRequest({ idempotencyKey: spec.idempotencyKey }));
    let pull: ApiPull;
    if (existing) {
      ({ data: pull } = (await this.octokit.rest.pulls.update({ owner: this.owner, repo: this.repo, pull_number: existing.number, title: spec.title, body: spec.body, base: spec.base })) as { data: ApiPull });
    } else {
      ({ data: pull } = (await this.octokit.rest.pulls.create({ owner: this.owner, repo: this.repo, title: spec.title, head: spec.branch, base: spec.base, body: spec.body, maintainer_can_modify: true })) as { data: ApiPull });
    }
    if (spec.labels.length) await this.octokit.rest.issues.addLabels({ owner: this.owner, repo: this.repo, issue_number: pull.number, labels: spec.labels });
    const { reviewers, team_reviewers } = splitReviewers(spec.reviewers);
    if (reviewers.length || team_reviewers.length) {
      try {
        await this.octokit.rest.pulls.requestReviewers({ owner: this.owner, repo: this.repo, pull_number: pull.number, reviewers, team_reviewers });
      } catch (err) {
        // an owner who is not a collaborator must not block the pull request itself
        this.log(`could not request reviewers ${spec.reviewers.join(', ')} on #${pull.number}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return { ...view(pull), created: !existing };
  }

  async getPullRequest(number: number): Promise<PullRequestStatus | undefined> {
    let data: ApiPullState;
    try {
      ({ data } = (await this.octokit.rest.pulls.get({ owner: this.owner, repo: this.repo, pull_number: number })) as unknown as { data: ApiPullState });
    } catch (err) {
      if (err && typeof err === 'object' && 'status' in err && err.status === 404) return undefined;
      throw err;
    }
    const merged = data.merged ?? data.merged_at !== null;
    return {
      number: data.number,
      url: data.html_url,
      state: data.state === 'closed' ? 'closed' : 'open',
      merged,
      mergedAt: merged ? data.merged_at : null,
      // GitHub fills merge_commit_sha with a test merge while a pull request is open: only a merged one's counts
      mergeCommitSha: merged ? data.merge_commit_sha : null,
      closedAt: data.closed_at,
      base: data.base.ref,
    };
  }
}
