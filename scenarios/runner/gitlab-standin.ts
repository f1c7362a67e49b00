// A loopback stand-in for GitLab's REST API v4: just the endpoints arbiter's GitLabForge uses, in GitLab's wire
// format, with merge request source branches checked against a real bare repository (the loopback git server's).
//
//   const gitlab = await startGitLabStandin({ repos: { 'acme/shop': '/tmp/srv/shop.git' }, token: 't0ken' });
//   createForge('gitlab', { url: gitlab.url, repo: 'acme/shop', token: 't0ken' })
//   gitlab.mergeRequests('acme/shop')   // iid, title, description, source/target branch, labels, reviewers, state
//   gitlab.requests                     // every request: method, path (still URL-encoded), body
//   gitlab.approve('acme/shop', 1, 'alice')
//   gitlab.mergeRequest('acme/shop', 1, { squash: true, at })   // merges for real in the bare repository
//   gitlab.closeMergeRequest('acme/shop', 2, at)
//   await gitlab.close();
//
// Endpoints under /api/v4: GET/POST /projects/:id/merge_requests, GET/PUT /projects/:id/merge_requests/:iid,
// GET /projects/:id/merge_requests/:iid/approvals, PUT /projects/:id/merge_requests/:iid/merge, GET /users?username=.
// `:id` is the URL-encoded path (`acme%2Fshop`) or the project's numeric id. Auth is the `PRIVATE-TOKEN` header.
// Merging is done with git in the bare repository as GitLab does it: a merge commit (`Merge branch 'x' into 'main'`,
// the title, `See merge request group/project!iid`), optionally on top of a squash commit (the MR title), and
// `merge_commit_sha` / `squash_commit_sha` set accordingly.
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandinMergeRequest {
  iid: number;
  title: string;
  description: string;
  sourceBranch: string;
  targetBranch: string;
  sha: string;
  labels: string[];
  /** Reviewer usernames (requested by `reviewer_ids`). */
  reviewers: string[];
  state: 'opened' | 'closed' | 'merged';
  mergedAt: string | null;
  closedAt: string | null;
  mergeCommitSha: string | null;
  squashCommitSha: string | null;
  approvedBy: string[];
}

export interface GitLabStandin {
  url: string;
  mergeRequests(project: string): StandinMergeRequest[];
  requests: Array<{ method: string; path: string; body: unknown }>;
  /** The next `times` requests answer `status` (e.g. 502, or 429 with Retry-After: 0). */
  failNext(status: number, times?: number): void;
  /** `username` approves merge request `iid`. */
  approve(project: string, iid: number, username: string): void;
  /** Merges `iid` as the merge endpoint does (a merge commit; `squash` first squashes); returns the new target tip. */
  mergeRequest(project: string, iid: number, options?: { squash?: boolean; at?: string }): string;
  closeMergeRequest(project: string, iid: number, at?: string): void;
  close(): Promise<void>;
}

export interface GitLabStandinOptions {
  /** `group/project` → bare repository path whose branches merge requests refer to. */
  repos: Record<string, string>;
  /** Require `PRIVATE-TOKEN: <token>`. */
  token?: string;
  /** Known users (username → id). Omitted: every username asked for exists, with ids handed out in order. */
  users?: Record<string, number>;
  /** Approvals a merge request needs (default 1). */
  approvalsRequired?: number;
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch {
        resolve(text);
      }
    });
  });
}

/** GitLab takes labels as a comma-separated string (or an array). */
function labelList(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(',') : [];
  return items.map((s) => s.trim()).filter(Boolean);
}

export async function startGitLabStandin(options: GitLabStandinOptions): Promise<GitLabStandin> {
  const mrs = new Map<string, StandinMergeRequest[]>();
  const requests: GitLabStandin['requests'] = [];
  const projectIds = Object.keys(options.repos);
  const users = new Map<string, number>(Object.entries(options.users ?? {}));
  const approvalsRequired = options.approvalsRequired ?? 1;
  let failures: { status: number; times: number } | undefined;
  let base = '';

  const userById = (id: number): string | undefined => [...users].find(([, v]) => v === id)?.[0];

  const branchSha = (project: string, branch: string): string | undefined => {
    try {
      return execFileSync('git', ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: options.repos[project], encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  };

  const stamp = (at?: string): string => new Date(at ?? Date.now()).toISOString();

  const merge = (project: string, mr: StandinMergeRequest, squash: boolean, at: string): { sha?: string; status?: number; error?: string } => {
    const cwd = options.repos[project]!;
    const baseSha = branchSha(project, mr.targetBranch);
    const headSha = branchSha(project, mr.sourceBranch);
    if (!baseSha || !headSha) return { status: 422, error: 'Source or target branch is missing' };
    let tree: string;
    try {
      tree = execFileSync('git', ['merge-tree', '--write-tree', baseSha, headSha], { cwd, encoding: 'utf8' }).split('\n')[0]!.trim();
    } catch {
      return { status: 406, error: 'Branch cannot be merged' };
    }
    const seconds = Math.floor(Date.parse(at) / 1000);
    const env = { ...process.env, GIT_AUTHOR_NAME: 'GitLab', GIT_AUTHOR_EMAIL: 'noreply@gitlab.invalid', GIT_COMMITTER_NAME: 'GitLab', GIT_COMMITTER_EMAIL: 'noreply@gitlab.invalid', GIT_AUTHOR_DATE: `@${seconds} +0000`, GIT_COMMITTER_DATE: `@${seconds} +0000` };
    let second = headSha;
    let squashSha: string | null = null;
    if (squash) {
      squashSha = execFileSync('git', ['commit-tree', tree, '-p', baseSha, '-F', '-'], { cwd, env, input: `${mr.title}\n`, encoding: 'utf8' }).trim();
      second = squashSha;
    }
    const message = `Merge branch '${mr.sourceBranch}' into '${mr.targetBranch}'\n\n${mr.title}\n\nSee merge request ${project}!${mr.iid}\n`;
    const sha = execFileSync('git', ['commit-tree', tree, '-p', baseSha, '-p', second, '-F', '-'], { cwd, env, input: message, encoding: 'utf8' }).trim();
    execFileSync('git', ['update-ref', `refs/heads/${mr.targetBranch}`, sha, baseSha], { cwd });
    Object.assign(mr, { sha: headSha, state: 'merged', mergedAt: at, mergeCommitSha: sha, squashCommitSha: squashSha });
    return { sha };
  };

  const wire = (project: string, mr: StandinMergeRequest) => {
    if (mr.state === 'opened') mr.sha = branchSha(project, mr.sourceBranch) ?? mr.sha;
    return {
      id: 1000 + mr.iid,
      iid: mr.iid,
      project_id: projectIds.indexOf(project) + 1,
      title: mr.title,
      description: mr.description,
      state: mr.state,
      merged_at: mr.mergedAt,
      closed_at: mr.closedAt,
      target_branch: mr.targetBranch,
      source_branch: mr.sourceBranch,
      labels: mr.labels,
      reviewers: mr.reviewers.map((username) => ({ id: users.get(username), username })),
      sha: mr.sha,
      merge_commit_sha: mr.mergeCommitSha,
      squash_commit_sha: mr.squashCommitSha,
      web_url: `https://gitlab.invalid/${project}/-/merge_requests/${mr.iid}`,
    };
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    // the raw path: `%2F` in a project id must stay one path segment
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', body });
    if (failures && failures.times > 0) {
      failures.times--;
      return send(res, failures.status, { message: 'stand-in failure' }, failures.status === 429 ? { 'retry-after': '0' } : {});
    }
    if (options.token && req.headers['private-token'] !== options.token) return send(res, 401, { message: '401 Unauthorized' });
    if (req.method === 'GET' && rawPath === '/api/v4/users') {
      const username = url.searchParams.get('username') ?? '';
      if (!options.users && username && !users.has(username)) users.set(username, users.size + 1);
      const id = users.get(username);
      return send(res, 200, id === undefined ? [] : [{ id, username, name: username, state: 'active' }]);
    }
    const m = /^\/api\/v4\/projects\/([^/]+)\/merge_requests(?:\/(\d+))?(?:\/(approvals|merge))?$/.exec(rawPath);
    if (!m) return send(res, 404, { error: '404 Not Found' });
    const idText = decodeURIComponent(m[1]!);
    const project = /^\d+$/.test(idText) ? projectIds[Number(idText) - 1] : idText;
    if (!project || !(project in options.repos)) return send(res, 404, { message: '404 Project Not Found' });
    const list = mrs.get(project) ?? [];
    mrs.set(project, list);
    const iid = m[2] ? Number(m[2]) : undefined;
    const mr = iid !== undefined ? list.find((x) => x.iid === iid) : undefined;
    if (iid !== undefined && !mr) return send(res, 404, { message: '404 Not found' });
    const b = (body ?? {}) as Record<string, unknown>;
    const route = `${req.method} ${iid !== undefined ? ':iid' : ''}${m[3] ? `/${m[3]}` : ''}`;
    const reviewersFrom = (ids: unknown): string[] | undefined => (Array.isArray(ids) ? ids.map((id) => userById(Number(id))).filter((u): u is string => !!u) : undefined);
    switch (route) {
      case 'GET ': {
        const state = url.searchParams.get('state') ?? 'all';
        const source = url.searchParams.get('source_branch');
        const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 20), 100);
        const page = Number(url.searchParams.get('page') ?? 1);
        const matching = list.filter((x) => (state === 'all' || x.state === state) && (!source || x.sourceBranch === source)).reverse();
        const slice = matching.slice((page - 1) * perPage, page * perPage);
        const more = page * perPage < matching.length;
        return send(res, 200, slice.map((x) => wire(project, x)), { 'x-page': String(page), 'x-per-page': String(perPage), 'x-next-page': more ? String(page + 1) : '', 'x-total': String(matching.length) });
      }
      case 'POST ': {
        const source = String(b.source_branch ?? '');
        const target = String(b.target_branch ?? '');
        const sha = branchSha(project, source);
        if (!source || !target || typeof b.title !== 'string') return send(res, 400, { error: 'source_branch, target_branch, title are missing' });
        if (!sha) return send(res, 422, { message: ['Source branch does not exist'] });
        if (list.some((x) => x.state === 'opened' && x.sourceBranch === source && x.targetBranch === target)) {
          return send(res, 409, { message: [`Another open merge request already exists for this source branch: !${list.find((x) => x.sourceBranch === source)!.iid}`] });
        }
        const created: StandinMergeRequest = {
          iid: list.length + 1,
          title: b.title,
          description: typeof b.description === 'string' ? b.description : '',
          sourceBranch: source,
          targetBranch: target,
          sha,
          labels: labelList(b.labels),
          reviewers: reviewersFrom(b.reviewer_ids) ?? [],
          state: 'opened',
          mergedAt: null,
          closedAt: null,
          mergeCommitSha: null,
          squashCommitSha: null,
          approvedBy: [],
        };
        list.push(created);
        return send(res, 201, wire(project, created));
      }
      case 'GET :iid':
        return send(res, 200, wire(project, mr!));
      case 'PUT :iid': {
        const x = mr!;
        if (typeof b.title === 'string') x.title = b.title;
        if (typeof b.description === 'string') x.description = b.description;
        if (typeof b.target_branch === 'string') x.targetBranch = b.target_branch;
        if (b.labels !== undefined) x.labels = labelList(b.labels);
        for (const l of labelList(b.add_labels)) if (!x.labels.includes(l)) x.labels.push(l);
        x.labels = x.labels.filter((l) => !labelList(b.remove_labels).includes(l));
        const reviewers = reviewersFrom(b.reviewer_ids);
        if (reviewers) x.reviewers = reviewers;
        if (b.state_event === 'close' && x.state === 'opened') Object.assign(x, { state: 'closed', closedAt: stamp() });
        if (b.state_event === 'reopen' && x.state === 'closed') Object.assign(x, { state: 'opened', closedAt: null });
        return send(res, 200, wire(project, x));
      }
      case 'GET :iid/approvals': {
        const x = mr!;
        const left = Math.max(0, approvalsRequired - x.approvedBy.length);
        return send(res, 200, {
          id: 1000 + x.iid,
          iid: x.iid,
          state: x.state,
          approved: left === 0,
          approvals_required: approvalsRequired,
          approvals_left: left,
          approved_by: x.approvedBy.map((username) => ({ user: { id: users.get(username), username } })),
        });
      }
      case 'PUT :iid/merge': {
        const x = mr!;
        if (x.state !== 'opened') return send(res, 405, { message: '405 Method Not Allowed' });
        if (typeof b.sha === 'string' && b.sha !== branchSha(project, x.sourceBranch)) return send(res, 409, { message: 'SHA does not match HEAD of source branch' });
        const done = merge(project, x, b.squash === true, stamp());
        if (!done.sha) return send(res, done.status!, { message: done.error });
        return send(res, 200, wire(project, x));
      }
      default:
        return send(res, 404, { error: '404 Not Found' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const find = (project: string, iid: number, state?: StandinMergeRequest['state']): StandinMergeRequest => {
    const x = mrs.get(project)?.find((y) => y.iid === iid);
    if (!x || (state && x.state !== state)) throw new Error(`no ${state ?? ''} merge request !${iid} in ${project}`);
    return x;
  };
  return {
    url: base,
    mergeRequests: (project) => mrs.get(project) ?? [],
    requests,
    failNext: (status, times = 1) => {
      failures = { status, times };
    },
    approve: (project, iid, username) => {
      const x = find(project, iid);
      if (!users.has(username)) users.set(username, users.size + 1);
      if (!x.approvedBy.includes(username)) x.approvedBy.push(username);
    },
    mergeRequest: (project, iid, mergeOptions = {}) => {
      const done = merge(project, find(project, iid, 'opened'), mergeOptions.squash === true, stamp(mergeOptions.at));
      if (!done.sha) throw new Error(`cannot merge !${iid}: ${done.error}`);
      return done.sha;
    },
    closeMergeRequest: (project, iid, at) => {
      Object.assign(find(project, iid, 'opened'), { state: 'closed', closedAt: stamp(at) });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
