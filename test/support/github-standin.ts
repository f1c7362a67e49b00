// A loopback stand-in for the GitHub REST API: just the endpoints arbiter's GitHubForge uses, in GitHub's wire
// format, with pull request heads checked against a real bare repository (the loopback git server's).
//
//   const github = await startGitHubStandin({ repos: { 'acme/shop': '/tmp/srv/shop.git' }, token: 't0ken' });
//   new GitHubForge({ baseUrl: github.url, repository: 'acme/shop', token: 't0ken' })
//   github.pulls('acme/shop')      // what was opened: number, title, body, head, base, labels, reviewers, state
//   github.requests                // every request: method, path, body
//   await github.close();
//
// Endpoints: GET/POST /repos/:o/:r/pulls, GET/PATCH /repos/:o/:r/pulls/:n, POST /repos/:o/:r/issues/:n/labels,
// POST /repos/:o/:r/pulls/:n/requested_reviewers. `failNext(status, times)` makes the next requests fail (retry tests).
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
}

export interface GitHubStandin {
  url: string;
  pulls(repository: string): StandinPull[];
  requests: Array<{ method: string; path: string; body: unknown }>;
  /** The next `times` requests answer `status` (e.g. 502, or 403 with a secondary rate limit). */
  failNext(status: number, times?: number): void;
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

  const wire = (repository: string, p: StandinPull) => {
    const [owner] = repository.split('/');
    p.headSha = branchSha(repository, p.head) ?? p.headSha;
    return {
      url: `${base}/repos/${repository}/pulls/${p.number}`,
      html_url: `https://github.invalid/${repository}/pull/${p.number}`,
      number: p.number,
      state: p.state,
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
    const m = /^\/repos\/([^/]+)\/([^/]+)\/(pulls|issues)(?:\/(\d+))?(?:\/(labels|requested_reviewers))?$/.exec(url.pathname);
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
        const created: StandinPull = { number: list.length + 1, title: String(b.title ?? ''), body: String(b.body ?? ''), head, headSha: sha, base: String(b.base ?? 'main'), labels: [], reviewers: [], teamReviewers: [], state: 'open' };
        list.push(created);
        return send(res, 201, wire(repository, created));
      }
      case 'GET pulls/:n':
        return pull ? send(res, 200, wire(repository, pull)) : send(res, 404, { message: 'Not Found' });
      case 'PATCH pulls/:n': {
        if (!pull) return send(res, 404, { message: 'Not Found' });
        if (typeof b.title === 'string') pull.title = b.title;
        if (typeof b.body === 'string') pull.body = b.body;
        if (typeof b.base === 'string') pull.base = b.base;
        if (b.state === 'open' || b.state === 'closed') pull.state = b.state;
        return send(res, 200, wire(repository, pull));
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
        return send(res, 201, wire(repository, pull));
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
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
