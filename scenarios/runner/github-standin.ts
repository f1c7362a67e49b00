// A loopback stand-in for the GitHub REST API: just the endpoints arbiter's GitHubForge uses, in GitHub's wire
// format, with pull request heads checked against a real bare repository (the loopback git server's).
//
//   const github = await startGitHubStandin({ repos: { 'acme/shop': '/tmp/srv/shop.git' }, token: 't0ken' });
//   createForge('github', { url: github.url, repo: 'acme/shop', token: 't0ken' })
//   github.pulls('acme/shop')      // what was opened: number, title, body, head, base, labels, reviewers, state
//   github.requests                // every request: method, path, body
//   github.mergePull('acme/shop', 1, { method: 'squash', at })   // merges for real in the bare repository
//   github.closePull('acme/shop', 2, at)                         // closed without merging
//   await github.close();
//
// Endpoints: GET/POST /repos/:o/:r/pulls, GET/PATCH /repos/:o/:r/pulls/:n, POST /repos/:o/:r/issues/:n/labels,
// POST /repos/:o/:r/pulls/:n/requested_reviewers, PUT /repos/:o/:r/pulls/:n/merge (merge, squash or rebase, done with
// git in the bare repository: GitHub's default squash message is the title plus `(#n)`, then the body; a rebase keeps
// the commit's message and author, GitHub becomes the committer). `failNext(status, times)` makes the next requests fail (retry tests).
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandinPull {
  number: number;
  title: string;
  body: string;
  head: string;
  headSha: string;
  base: string;
  labels: string[];
  reviewers: string[];
  teamReviewers: string[];
  state: 'open' | 'closed';
  merged: boolean;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  closedAt: string | null;
}

/** GitHub's merge methods; the stand-in rebases single-commit pull requests only. */
export type MergeMethod = 'merge' | 'squash' | 'rebase';

export interface GitHubStandin {
  url: string;
  pulls(repository: string): StandinPull[];
  requests: Array<{ method: string; path: string; body: unknown }>;
  /** The next `times` requests answer `status` (e.g. 502, or 403 with a secondary rate limit). */
  failNext(status: number, times?: number): void;
  /** Merges pull request `number` as the merge endpoint does, at `at` (default: now); returns the new base tip. */
  mergePull(repository: string, number: number, options?: { method?: MergeMethod; at?: string }): string;
  /** Closes pull request `number` without merging. */
  closePull(repository: string, number: number, at?: string): void;
  close(): Promise<void>;
}

export interface GitHubStandinOptions {
  /** `owner/name` → bare repository path whose branches pull requests refer to. */
  repos: Record<string, string>;
  /** Require `Authorization: token <token>` / `Bearer <token>`. */
  token?: string;
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

export async function startGitHubStandin(options: GitHubStandinOptions): Promise<GitHubStandin> {
  const pulls = new Map<string, StandinPull[]>();
  const requests: GitHubStandin['requests'] = [];
  let failures: { status: number; times: number } | undefined;
  let base = '';

  const branchSha = (repository: string, branch: string): string | undefined => {
    try {
      return execFileSync('git', ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: options.repos[repository], encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  };

  const stamp = (at?: string): string => (at ?? new Date().toISOString()).replace(/\.\d{3}Z$/, 'Z');

  /** GitHub's merge: a merge commit (base, head) or a squash commit (base) of the merged tree, then the base ref moves. */
  const merge = (repository: string, p: StandinPull, method: MergeMethod, at: string, title?: string, message?: string): { sha?: string; status?: number; error?: string } => {
    const cwd = options.repos[repository]!;
    const baseSha = branchSha(repository, p.base);
    const headSha = branchSha(repository, p.head);
    if (!baseSha || !headSha) return { status: 422, error: 'Head or base branch is missing' };
    let tree: string;
    try {
      tree = execFileSync('git', ['merge-tree', '--write-tree', baseSha, headSha], { cwd, encoding: 'utf8' }).split('\n')[0]!.trim();
    } catch {
      return { status: 405, error: 'Pull Request is not mergeable' };
    }
    const seconds = Math.floor(Date.parse(at) / 1000);
    const env = { ...process.env, GIT_AUTHOR_NAME: 'GitHub', GIT_AUTHOR_EMAIL: 'noreply@github.invalid', GIT_COMMITTER_NAME: 'GitHub', GIT_COMMITTER_EMAIL: 'noreply@github.invalid', GIT_AUTHOR_DATE: `@${seconds} +0000`, GIT_COMMITTER_DATE: `@${seconds} +0000` };
    let msg: string;
    if (method === 'rebase') {
      const commits = execFileSync('git', ['rev-list', `${baseSha}..${headSha}`], { cwd, encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      if (commits.length !== 1) return { status: 422, error: 'the stand-in rebases single-commit pull requests only' };
      msg = execFileSync('git', ['log', '-1', '--format=%B', headSha], { cwd, encoding: 'utf8' });
      const [name, email, date] = execFileSync('git', ['log', '-1', '--format=%an%x00%ae%x00%ad', '--date=raw', headSha], { cwd, encoding: 'utf8' }).trim().split('\0');
      Object.assign(env, { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_AUTHOR_DATE: date });
    } else if (method === 'squash') {
      msg = `${title ?? `${p.title} (#${p.number})`}\n\n${message ?? p.body}`;
    } else {
      msg = `${title ?? `Merge pull request #${p.number} from ${repository.split('/')[0]}/${p.head}`}\n\n${message ?? p.title}`;
    }
    const parents = method === 'merge' ? ['-p', baseSha, '-p', headSha] : ['-p', baseSha];
    const sha = execFileSync('git', ['commit-tree', tree, ...parents, '-F', '-'], { cwd, env, input: msg, encoding: 'utf8' }).trim();
    execFileSync('git', ['update-ref', `refs/heads/${p.base}`, sha, baseSha], { cwd });
    Object.assign(p, { headSha, state: 'closed', merged: true, mergedAt: at, mergeCommitSha: sha, closedAt: at });
    return { sha };
  };

  const wire = (repository: string, p: StandinPull, single = false) => {
    const [owner] = repository.split('/');
    if (p.state === 'open') p.headSha = branchSha(repository, p.head) ?? p.headSha;
    return {
      url: `${base}/repos/${repository}/pulls/${p.number}`,
      html_url: `https://github.invalid/${repository}/pull/${p.number}`,
      number: p.number,
      state: p.state,
      // `merged` is only in single pull request responses, as on GitHub
      ...(single ? { merged: p.merged } : {}),
      merged_at: p.mergedAt,
      merge_commit_sha: p.mergeCommitSha,
      closed_at: p.closedAt,
      title: p.title,
      body: p.body,
      labels: p.labels.map((name, id) => ({ id, name })),
      requested_reviewers: p.reviewers.map((login) => ({ login })),
      requested_teams: p.teamReviewers.map((slug) => ({ slug })),
      head: { ref: p.head, sha: p.headSha, label: `${owner}:${p.head}` },
      base: { ref: p.base, label: `${owner}:${p.base}` },
    };
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ method: req.method ?? 'GET', path: `${url.pathname}${url.search}`, body });
    if (failures && failures.times > 0) {
      failures.times--;
      const status = failures.status;
      if (status === 403) return send(res, 403, { message: 'You have exceeded a secondary rate limit' }, { 'retry-after': '0' });
      return send(res, status, { message: 'stand-in failure' });
    }
    if (options.token) {
      const auth = req.headers.authorization ?? '';
      if (auth !== `token ${options.token}` && auth !== `Bearer ${options.token}`) return send(res, 401, { message: 'Bad credentials' });
    }
    const m = /^\/repos\/([^/]+)\/([^/]+)\/(pulls|issues)(?:\/(\d+))?(?:\/(labels|requested_reviewers|merge))?$/.exec(url.pathname);
    const repository = m ? `${m[1]}/${m[2]}` : '';
    if (!m || !(repository in options.repos)) return send(res, 404, { message: 'Not Found' });
    const list = pulls.get(repository) ?? [];
    pulls.set(repository, list);
    const number = m[4] ? Number(m[4]) : undefined;
    const pull = number !== undefined ? list.find((p) => p.number === number) : undefined;
    const b = (body ?? {}) as Record<string, unknown>;
    const route = `${req.method} ${m[3]}${number !== undefined ? '/:n' : ''}${m[5] ? `/${m[5]}` : ''}`;
    switch (route) {
      case 'GET pulls': {
        const state = url.searchParams.get('state') ?? 'open';
        const head = url.searchParams.get('head');
        const perPage = Number(url.searchParams.get('per_page') ?? 30);
        const page = Number(url.searchParams.get('page') ?? 1);
        const matching = list.filter((p) => (state === 'all' || p.state === state) && (!head || `${repository.split('/')[0]}:${p.head}` === head));
        const slice = matching.slice((page - 1) * perPage, page * perPage);
        const headers: Record<string, string> = {};
        if (page * perPage < matching.length) headers.link = `<${base}${url.pathname}?${new URLSearchParams({ ...Object.fromEntries(url.searchParams), page: String(page + 1) })}>; rel="next"`;
        return send(res, 200, slice.map((p) => wire(repository, p)), headers);
      }
      case 'POST pulls': {
        const head = String(b.head ?? '');
        const sha = branchSha(repository, head);
        if (!sha) return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] });
        if (list.some((p) => p.state === 'open' && p.head === head)) {
          return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${head}.` }] });
        }
        const created: StandinPull = { number: list.length + 1, title: String(b.title ?? ''), body: String(b.body ?? ''), head, headSha: sha, base: String(b.base ?? 'main'), labels: [], reviewers: [], teamReviewers: [], state: 'open', merged: false, mergedAt: null, mergeCommitSha: null, closedAt: null };
        list.push(created);
        return send(res, 201, wire(repository, created, true));
      }
      case 'GET pulls/:n':
        return pull ? send(res, 200, wire(repository, pull, true)) : send(res, 404, { message: 'Not Found' });
      case 'PATCH pulls/:n': {
        if (!pull) return send(res, 404, { message: 'Not Found' });
        if (typeof b.title === 'string') pull.title = b.title;
        if (typeof b.body === 'string') pull.body = b.body;
        if (typeof b.base === 'string') pull.base = b.base;
        if ((b.state === 'open' || b.state === 'closed') && !pull.merged) {
          pull.closedAt = b.state === 'closed' ? (pull.closedAt ?? stamp()) : null;
          pull.state = b.state;
        }
        return send(res, 200, wire(repository, pull, true));
      }
      case 'POST issues/:n/labels': {
        if (!pull) return send(res, 404, { message: 'Not Found' });
        for (const l of (b.labels as string[] | undefined) ?? []) if (!pull.labels.includes(l)) pull.labels.push(l);
        return send(res, 200, pull.labels.map((name, id) => ({ id, name })));
      }
      case 'POST pulls/:n/requested_reviewers': {
        if (!pull) return send(res, 404, { message: 'Not Found' });
        for (const r of (b.reviewers as string[] | undefined) ?? []) if (!pull.reviewers.includes(r)) pull.reviewers.push(r);
        for (const t of (b.team_reviewers as string[] | undefined) ?? []) if (!pull.teamReviewers.includes(t)) pull.teamReviewers.push(t);
        return send(res, 201, wire(repository, pull, true));
      }
      case 'PUT pulls/:n/merge': {
        if (!pull) return send(res, 404, { message: 'Not Found' });
        if (pull.state !== 'open') return send(res, 405, { message: 'Pull Request is not mergeable' });
        if (typeof b.sha === 'string' && b.sha !== branchSha(repository, pull.head)) return send(res, 409, { message: 'Head branch was modified. Review and try the merge again.' });
        const method = b.merge_method ?? 'merge';
        if (method !== 'merge' && method !== 'squash' && method !== 'rebase') return send(res, 422, { message: `merge_method ${String(method)} is not supported by the stand-in` });
        const done = merge(repository, pull, method, stamp(), typeof b.commit_title === 'string' ? b.commit_title : undefined, typeof b.commit_message === 'string' ? b.commit_message : undefined);
        if (!done.sha) return send(res, done.status!, { message: done.error });
        return send(res, 200, { sha: done.sha, merged: true, message: 'Pull Request successfully merged' });
      }
      default:
        return send(res, 404, { message: 'Not Found' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    pulls: (repository) => pulls.get(repository) ?? [],
    requests,
    failNext: (status, times = 1) => {
      failures = { status, times };
    },
    mergePull: (repository, number, mergeOptions = {}) => {
      const p = pulls.get(repository)?.find((x) => x.number === number);
      if (!p || p.state !== 'open') throw new Error(`no open pull request #${number} in ${repository}`);
      const done = merge(repository, p, mergeOptions.method ?? 'merge', stamp(mergeOptions.at));
      if (!done.sha) throw new Error(`cannot merge #${number}: ${done.error}`);
      return done.sha;
    },
    closePull: (repository, number, at) => {
      const p = pulls.get(repository)?.find((x) => x.number === number);
      if (!p || p.state !== 'open') throw new Error(`no open pull request #${number} in ${repository}`);
      Object.assign(p, { state: 'closed', closedAt: stamp(at) });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
