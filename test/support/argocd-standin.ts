// A loopback stand-in for the one Argo CD endpoint arbiter reads: `GET /api/v1/applications/{name}` with a Bearer token,
// answering with Argo CD's Application JSON (metadata.name, status.sync.{status,revision}, status.health.status,
// status.operationState) and its gRPC-gateway error bodies ({error, code, message}).
//
//   const argo = await startArgoCdStandIn({ token: 't' });
//   argo.setApplication('checkout', [{ revision: 'abc…', sync: 'OutOfSync', health: 'Progressing' }, { revision: 'abc…' }]);
//   // each GET serves the next state; the last one stays
//   await argo.close();
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AppState {
  revision: string;
  /** Synced | OutOfSync | Unknown (default Synced) */
  sync?: string;
  /** Healthy | Progressing | Degraded | Suspended | Missing | Unknown (default Healthy) */
  health?: string;
  /** Succeeded | Running | Failed | Error (default Succeeded) */
  phase?: string;
}

export interface ArgoCdStandIn {
  url: string;
  setApplication(name: string, states: AppState[]): void;
  /** GETs served per application. */
  polls: Map<string, number>;
  /** Authorization headers seen, in order. */
  authorizations: Array<string | undefined>;
  close(): Promise<void>;
}

function application(name: string, s: AppState): unknown {
  const phase = s.phase ?? 'Succeeded';
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd', resourceVersion: '1' },
    spec: { project: 'default', source: { repoURL: 'https://git.example.invalid/shop.git', path: `apps/${name}`, targetRevision: 'main' }, destination: { server: 'https://kubernetes.default.svc', namespace: 'shop' } },
    status: {
      sync: { status: s.sync ?? 'Synced', revision: s.revision, comparedTo: { source: { repoURL: 'https://git.example.invalid/shop.git', targetRevision: 'main' } } },
      health: { status: s.health ?? 'Healthy' },
      operationState: {
        phase,
        message: phase === 'Succeeded' ? 'successfully synced (all tasks run)' : `sync ${phase.toLowerCase()}`,
        syncResult: { revision: s.revision },
        startedAt: '2026-11-21T02:13:05Z',
        ...(phase === 'Running' ? {} : { finishedAt: '2026-11-21T02:13:09Z' }),
      },
      reconciledAt: '2026-11-21T02:13:10Z',
    },
  };
}

export async function startArgoCdStandIn(options: { token: string }): Promise<ArgoCdStandIn> {
  const apps = new Map<string, AppState[]>();
  const polls = new Map<string, number>();
  const authorizations: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    authorizations.push(req.headers.authorization);
    const m = /^\/api\/v1\/applications\/([^/?]+)/.exec(req.url ?? '');
    if (req.method !== 'GET' || !m) return send(404, { error: 'Not Found', code: 5, message: 'Not Found' });
    if (req.headers.authorization !== `Bearer ${options.token}`) return send(401, { error: 'no session information', code: 16, message: 'no session information' });
    const name = decodeURIComponent(m[1]!);
    const states = apps.get(name);
    if (!states) return send(404, { error: `applications.argoproj.io "${name}" not found`, code: 5, message: `applications.argoproj.io "${name}" not found` });
    polls.set(name, (polls.get(name) ?? 0) + 1);
    const state = states.length > 1 ? states.shift()! : states[0]!;
    send(200, application(name, state));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setApplication: (name, states) => apps.set(name, [...states]),
    polls,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
