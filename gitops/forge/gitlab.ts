// The GitLab forge: merge requests over GitLab's REST API v4 with Node's fetch (no SDK; see README "Dependencies and
// why"). A pull request here is a merge request; its `number` is the MR's project-scoped `iid`.
//
// Calls: GET/POST /projects/:id/merge_requests, GET/PUT /projects/:id/merge_requests/:iid,
// GET /projects/:id/merge_requests/:iid/approvals, GET /users?username=. `:id` is the URL-encoded `group/project`
// path; the token goes in the `PRIVATE-TOKEN` header.
import { InputError } from '../../engine/errors.ts';
import { bodyCarriesKey, type Forge, type PullRequest, type PullRequestSpec, type PullRequestStatus } from './forge.ts';

export interface GitLabForgeOptions {
  /** The instance (`https://gitlab.example.com`) or its API root (`.../api/v4`). */
  baseUrl: string;
  /** `GROUP/PROJECT`, subgroups allowed (`group/sub/project`). */
  repository: string;
  token?: string;
  /** Retries after a 429 or a 502/503/504 (default 2). */
  rateLimitRetries?: number;
  /** Per-request timeout in milliseconds (default 30 000): a hung forge fails the call, it never hangs arbiter. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** A merge request as GitLab's API returns it (the fields arbiter reads). */
interface ApiMergeRequest {
  iid: number;
  web_url: string;
  title: string;
  description: string | null;
  source_branch: string;
  target_branch: string;
  sha: string | null;
  state: 'opened' | 'closed' | 'merged' | 'locked';
  merged_at?: string | null;
  closed_at?: string | null;
  merge_commit_sha?: string | null;
  squash_commit_sha?: string | null;
}

/** Who approved a merge request and whether GitLab counts it as approved. */
export interface ApprovalState {
  approved: boolean;
  approvalsRequired: number;
  approvalsLeft: number;
  approvedBy: string[];
}

export class GitLabApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GitLabApiError';
  }
}

function view(mr: ApiMergeRequest): PullRequest {
  return { number: mr.iid, url: mr.web_url, branch: mr.source_branch, headSha: mr.sha ?? '', title: mr.title, body: mr.description ?? '' };
}

/** `https://host` or `https://host/api/v4` → `https://host/api/v4`. */
export function gitlabApiRoot(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new InputError('must be an http(s) URL', 'forge.url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError('must be an http(s) URL', 'forge.url');
  const trimmed = baseUrl.replace(/\/+$/, '');
  return /\/api\/v4$/.test(trimmed) ? trimmed : `${trimmed}/api/v4`;
}

export class GitLabForge implements Forge {
  private readonly api: string;
  private readonly project: string;
  private readonly token: string | undefined;
  private readonly retries: number;
  private readonly timeoutMs: number;
  private readonly log: (line: string) => void;
  private readonly userIds = new Map<string, number | undefined>();

  constructor(options: GitLabForgeOptions) {
    if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/.test(options.repository) || options.repository.split('/').some((s) => s === '.' || s === '..')) {
      throw new InputError('expected GROUP/PROJECT', 'forge.repo');
    }
    this.api = gitlabApiRoot(options.baseUrl);
    this.project = encodeURIComponent(options.repository);
    this.token = options.token;
    this.retries = options.rateLimitRetries ?? 2;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.log = options.log ?? (() => undefined);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<{ data: T; headers: Headers }> {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${this.api}${path}`, {
        method,
        headers: { accept: 'application/json', 'user-agent': 'arbiter', ...(this.token ? { 'private-token': this.token } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      if (res.ok) {
        let data: T;
        try {
          data = (text ? JSON.parse(text) : undefined) as T;
        } catch {
          throw new GitLabApiError(res.status, `GitLab ${method} ${path}: response is not JSON`);
        }
        return { data, headers: res.headers };
      }
      const transient = res.status === 429 || res.status === 502 || res.status === 503 || res.status === 504;
      if (transient && attempt < this.retries) {
        // Retry-After in seconds, capped: a forge asking for an hour does not get to stall a decision for an hour
        const header = res.headers.get('retry-after');
        const after = Math.min(header !== null && /^\d+$/.test(header.trim()) ? Number(header) : 1, 10);
        this.log(`GitLab answered ${res.status}; retrying after ${after}s`);
        await new Promise((r) => setTimeout(r, after * 1000));
        continue;
      }
      let message = text.slice(0, 300);
      try {
        const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
        message = JSON.stringify(parsed.message ?? parsed.error ?? parsed).slice(0, 300);
      } catch {
        // not JSON: keep the text
      }
      throw new GitLabApiError(res.status, `GitLab ${method} ${path}: ${res.status} ${message}`);
    }
  }

  private mrPath(iid?: number, rest = ''): string {
    return `/projects/${this.project}/merge_requests${iid !== undefined ? `/${iid}` : ''}${rest}`;
  }

  async findOpenPullRequest(query: { branch?: string; idempotencyKey?: string }): Promise<PullRequest | undefined> {
    if (query.branch) {
      const q = new URLSearchParams({ state: 'opened', source_branch: query.branch, per_page: '20' });
      const { data } = await this.request<ApiMergeRequest[]>('GET', `${this.mrPath()}?${q}`);
      const hit = data.find((mr) => mr.source_branch === query.branch && mr.state === 'opened');
      if (hit) return view(hit);
    }
    if (query.idempotencyKey) {
      const key = query.idempotencyKey;
      for (let page = 1; page <= 50; page++) {
        const q = new URLSearchParams({ state: 'opened', per_page: '100', page: String(page) });
        const { data, headers } = await this.request<ApiMergeRequest[]>('GET', `${this.mrPath()}?${q}`);
        const hit = data.find((mr) => mr.state === 'opened' && mr.source_branch.startsWith('arbiter/') && bodyCarriesKey(mr.description, key));
        if (hit) return view(hit);
        const next = headers.get('x-next-page');
        if (!next || data.length === 0) break;
      }
    }
    return undefined;
  }

  /** GitLab user ids for usernames (`/users?username=`); unknown users and `group/team` owners are logged and left out. */
  async resolveUserIds(usernames: string[]): Promise<number[]> {
    const ids: number[] = [];
    for (const raw of usernames) {
      const name = raw.replace(/^@/, '');
      if (name.includes('/')) {
        this.log(`GitLab cannot request a review from group ${name}; skipped`);
        continue;
      }
      if (!this.userIds.has(name)) {
        const { data } = await this.request<Array<{ id: number; username: string }>>('GET', `/users?${new URLSearchParams({ username: name })}`);
        const user = data.find((u) => u.username.toLowerCase() === name.toLowerCase());
        this.userIds.set(name, user?.id);
        if (!user) this.log(`no GitLab user ${name}; not requested as reviewer`);
      }
      const id = this.userIds.get(name);
      if (id !== undefined && !ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  async openOrUpdatePullRequest(spec: PullRequestSpec): Promise<PullRequest & { created: boolean }> {
    const existing = (await this.findOpenPullRequest({ branch: spec.branch })) ?? (await this.findOpenPullRequest({ idempotencyKey: spec.idempotencyKey }));
    let reviewerIds: number[] = [];
    try {
      reviewerIds = await this.resolveUserIds(spec.reviewers);
    } catch (err) {
      // a reviewer lookup failing must not block the merge request itself
      this.log(`could not resolve reviewers ${spec.reviewers.join(', ')}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const labels = spec.labels.join(',');
    let mr: ApiMergeRequest;
    if (existing) {
      ({ data: mr } = await this.request<ApiMergeRequest>('PUT', this.mrPath(existing.number), {
        title: spec.title,
        description: spec.body,
        target_branch: spec.base,
        ...(labels ? { add_labels: labels } : {}),
        ...(reviewerIds.length ? { reviewer_ids: reviewerIds } : {}),
      }));
    } else {
      ({ data: mr } = await this.request<ApiMergeRequest>('POST', this.mrPath(), {
        source_branch: spec.branch,
        target_branch: spec.base,
        title: spec.title,
        description: spec.body,
        ...(labels ? { labels } : {}),
        ...(reviewerIds.length ? { reviewer_ids: reviewerIds } : {}),
      }));
    }
    return { ...view(mr), created: !existing };
  }

  async getPullRequest(number: number): Promise<PullRequestStatus | undefined> {
    let mr: ApiMergeRequest;
    try {
      ({ data: mr } = await this.request<ApiMergeRequest>('GET', this.mrPath(number)));
    } catch (err) {
      if (err instanceof GitLabApiError && err.status === 404) return undefined;
      throw err;
    }
    const merged = mr.state === 'merged';
    return {
      number: mr.iid,
      url: mr.web_url,
      state: mr.state === 'opened' || mr.state === 'locked' ? 'open' : 'closed',
      merged,
      mergedAt: merged ? (mr.merged_at ?? null) : null,
      // a merge commit when there is one, else the squash commit, else (fast-forward) the head itself
      mergeCommitSha: merged ? (mr.merge_commit_sha ?? mr.squash_commit_sha ?? mr.sha ?? null) : null,
      closedAt: mr.state === 'closed' ? (mr.closed_at ?? null) : merged ? (mr.merged_at ?? null) : null,
      base: mr.target_branch,
    };
  }

  /** Approval state of merge request `iid` (`/approvals`). */
  async getApprovals(iid: number): Promise<ApprovalState> {
    const { data } = await this.request<{ approved?: boolean; approvals_required?: number; approvals_left?: number; approved_by?: Array<{ user?: { username?: string } }> }>('GET', this.mrPath(iid, '/approvals'));
    const left = typeof data.approvals_left === 'number' ? data.approvals_left : 1;
    return {
      // fail closed: without an explicit `approved: true` and nothing left to approve, it is not approved
      approved: data.approved === true && left === 0,
      approvalsRequired: typeof data.approvals_required === 'number' ? data.approvals_required : 0,
      approvalsLeft: left,
      approvedBy: (data.approved_by ?? []).map((a) => a.user?.username).filter((u): u is string => typeof u === 'string'),
    };
  }
}
