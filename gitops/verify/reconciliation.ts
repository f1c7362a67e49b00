// Waiting for the GitOps controller to apply a commit (DESIGN §7): Argo CD over its REST API, or Flux through a
// user-supplied command that prints the Kustomization as JSON. Every wait is bounded.
import { execFile } from 'node:child_process';
import type { ActionTarget } from '../../engine/types.ts';
import { TransientError } from '../../engine/errors.ts';

/** What a controller reports about the service's application at one moment. */
export interface ReconcileObservation {
  /** Revisions the controller has applied (Argo CD multi-source applications report several). */
  revisions: string[];
  healthy: boolean;
  detail: string;
}

/** A pluggable view of the controller that reconciles the GitOps repository. */
export interface ReconcileWatcher {
  readonly name: string;
  observe(target: ActionTarget, signal?: AbortSignal): Promise<ReconcileObservation>;
}

export interface ArgoCdOptions {
  /** Argo CD server, e.g. https://argocd.example.com */
  url: string;
  token?: string;
  /** Application name per service (default: the service name). */
  applications?: Record<string, string>;
  /** Per-request timeout (default 10 s). */
  requestTimeoutMs?: number;
}

/** Argo CD: `GET /api/v1/applications/{name}` with a Bearer token. */
export class ArgoCdWatcher implements ReconcileWatcher {
  readonly name = 'argocd';
  constructor(private readonly options: ArgoCdOptions) {}

  applicationOf(target: ActionTarget): string {
    return this.options.applications?.[target.service] ?? target.service;
  }

  async observe(target: ActionTarget, signal?: AbortSignal): Promise<ReconcileObservation> {
    const app = this.applicationOf(target);
    const url = `${this.options.url.replace(/\/+$/, '')}/api/v1/applications/${encodeURIComponent(app)}`;
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000);
    const res = await fetch(url, {
      headers: { accept: 'application/json', ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}) },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await res.text();
    if (!res.ok) throw new TransientError(`Argo CD application ${app}: HTTP ${res.status} ${text.slice(0, 200).trim()}`);
    return argoObservation(JSON.parse(text) as ArgoApplication);
  }
}

interface ArgoApplication {
  metadata?: { name?: string };
  status?: {
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string; message?: string };
    operationState?: { phase?: string; message?: string };
  };
}

/** Healthy means Synced and Healthy; the detail says what Argo CD reported, for the ledger. */
export function argoObservation(app: ArgoApplication): ReconcileObservation {
  const sync = app.status?.sync ?? {};
  const health = app.status?.health ?? {};
  const op = app.status?.operationState;
  const revisions = [...(sync.revision ? [sync.revision] : []), ...(sync.revisions ?? [])];
  const detail = [
    `application ${app.metadata?.name ?? '?'}: sync ${sync.status ?? 'Unknown'} at ${sync.revision ?? sync.revisions?.join(',') ?? 'no revision'}`,
    `health ${health.status ?? 'Unknown'}${health.message ? ` (${health.message})` : ''}`,
    ...(op?.phase ? [`last operation ${op.phase}${op.message ? `: ${op.message}` : ''}`] : []),
  ].join(', ');
  return { revisions, healthy: sync.status === 'Synced' && health.status === 'Healthy', detail };
}

export interface FluxCommandOptions {
  /** argv of a command printing the Kustomization as JSON; `$service` and `$namespace` are substituted. */
  command: string[];
  timeoutMs?: number;
}

/**
 * Flux: runs e.g. `kubectl get kustomization $service -n flux-system -o json` (no shell) and reads
 * `status.lastAppliedRevision` (`main@sha1:<oid>`, or `main/<oid>` before Flux 2.1) and the `Ready` condition.
 */
export class FluxCommandWatcher implements ReconcileWatcher {
  readonly name = 'flux';
  constructor(private readonly options: FluxCommandOptions) {}

  observe(target: ActionTarget, signal?: AbortSignal): Promise<ReconcileObservation> {
    const argv = this.options.command.map((a) => a.replaceAll('$service', target.service).replaceAll('$namespace', target.namespace));
    return new Promise((resolve, reject) => {
      execFile(argv[0]!, argv.slice(1), { timeout: this.options.timeoutMs ?? 30_000, maxBuffer: 8 * 1024 * 1024, signal }, (err, stdout, stderr) => {
        if (err) return reject(new Error(`${argv.join(' ')}: ${String(stderr).trim().split('\n')[0] || err.message}`));
        try {
          resolve(fluxObservation(JSON.parse(stdout) as FluxKustomization));
        } catch (e) {
          reject(new Error(`${argv.join(' ')} did not print a Kustomization as JSON: ${(e as Error).message}`));
        }
      });
    });
  }
}

interface FluxKustomization {
  metadata?: { name?: string };
  status?: { lastAppliedRevision?: string; conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> };
}

export function fluxObservation(k: FluxKustomization): ReconcileObservation {
  const applied = k.status?.lastAppliedRevision;
  const oid = applied ? /([0-9a-f]{40}|[0-9a-f]{64})$/.exec(applied)?.[1] : undefined;
  const ready = k.status?.conditions?.find((c) => c.type === 'Ready');
  const healthy = ready ? ready.status === 'True' : applied !== undefined;
  const detail = `kustomization ${k.metadata?.name ?? '?'}: last applied ${applied ?? 'nothing'}, Ready ${ready?.status ?? 'unknown'}${ready?.reason ? ` (${ready.reason})` : ''}`;
  return { revisions: oid ? [oid] : [], healthy, detail };
}

export interface ReconcileWait {
  reconciled: boolean;
  detail: string;
  polls: number;
}

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
  signal?: AbortSignal;
  /** True when `revision` is a later commit that contains ours (another change landed after it). */
  contains?: (revision: string) => Promise<boolean>;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Polls until the controller applied `commit` (or a descendant) and reports healthy, or the timeout passes. */
export async function waitForReconciliation(watcher: ReconcileWatcher, target: ActionTarget, commit: string, options: WaitOptions): Promise<ReconcileWait> {
  const deadline = Date.now() + options.timeoutMs;
  let detail = 'no observation yet';
  for (let polls = 1; ; polls++) {
    try {
      const seen = await watcher.observe(target, options.signal);
      detail = seen.detail;
      let applied = seen.revisions.includes(commit);
      for (const r of seen.revisions) if (!applied && r !== commit && options.contains) applied = await options.contains(r);
      if (applied && seen.healthy) return { reconciled: true, detail, polls };
    } catch (err) {
      if (options.signal?.aborted) throw err;
      detail = `${watcher.name}: ${(err as Error).message}`;
    }
    const left = deadline - Date.now();
    if (left <= 0) return { reconciled: false, detail: `${watcher.name} did not report ${commit.slice(0, 12)} applied and healthy within ${Math.round(options.timeoutMs / 1000)} s; last: ${detail}`, polls };
    await sleep(Math.min(options.pollMs, left), options.signal);
  }
}
