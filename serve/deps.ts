// Builds what the server needs from its configuration: signer, bundle, forge, notifier, controller watcher, Prometheus.
import { readFileSync } from 'node:fs';
import { InputError } from '../engine/errors.ts';
import { DEFAULT_BUNDLE } from '../app/bundle.ts';
import { loadDecisionCore, type DecisionCore } from '../app/core.ts';
import { GitHubForge } from '../gitops/forge/github.ts';
import { LogNotifier, NoopNotifier, WebhookNotifier, type Notifier } from '../gitops/notify.ts';
import { openpgpSigner } from '../gitops/sign/openpgp.ts';
import type { Signer } from '../gitops/sign/signer.ts';
import { sshSigner } from '../gitops/sign/sshsig.ts';
import { PrometheusClient, type MetricRule } from '../gitops/verify/metrics.ts';
import { ArgoCdWatcher, FluxCommandWatcher, type ReconcileWatcher } from '../gitops/verify/reconciliation.ts';
import { parseDuration } from '../app/verify.ts';
import type { ServeConfig } from './config.ts';
import type { ServerDeps } from './server.ts';


export async function signerFrom(config: ServeConfig): Promise<Signer> {
  let text: string;
  try {
    text = readFileSync(config.signing.key, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the signing key (${(err as NodeJS.ErrnoException).code ?? String(err)})`, `${config.source}: signing.key`);
  }
  const format = config.signing.format ?? (text.includes('BEGIN PGP PRIVATE KEY BLOCK') ? 'openpgp' : 'ssh');
  return format === 'openpgp' ? openpgpSigner(text, `${config.source}: signing.key`) : sshSigner(text, `${config.source}: signing.key`);
}

export function notifierFrom(config: ServeConfig, log: (line: string) => void): Notifier {
  const n = config.notifier;
  if (n.kind === 'webhook') return new WebhookNotifier({ url: n.url, attempts: n.attempts, timeoutMs: parseDuration(n.timeout)!, headers: n.headers });
  return n.kind === 'none' ? new NoopNotifier() : new LogNotifier(log);
}

/** Metric rules from the config; a bare query is judged by the default improvement over the diagnosis signal. */
export function metricRules(config: ServeConfig): Record<string, MetricRule> {
  return Object.fromEntries(
    Object.entries(config.metrics).map(([name, rule]) => [name, typeof rule === 'string' ? { query: rule, improvementPercent: config.verification.improvementPercent } : rule]),
  );
}

export function watcherFrom(config: ServeConfig): ReconcileWatcher | undefined {
  if (config.argocd) return new ArgoCdWatcher({ url: config.argocd.url, token: config.argocd.token, applications: config.argocd.applications });
  if (config.flux) return new FluxCommandWatcher({ command: config.flux.command, timeoutMs: parseDuration(config.flux.timeout)! });
  return undefined;
}

/** Everything `startServer` needs; `overrides` replace parts (tests substitute the decision core). */
export async function serverDeps(config: ServeConfig, overrides: Partial<ServerDeps> & { core?: DecisionCore } = {}): Promise<ServerDeps> {
  const log = overrides.log ?? ((line: string) => process.stderr.write(`arbiter serve: ${line}\n`));
  const core = overrides.core ?? (await loadDecisionCore());
  return {
    core,
    log,
    signer: overrides.signer !== undefined ? overrides.signer : await signerFrom(config),
    bundle: overrides.bundle ?? (await core.loadBundle(config.bundle ?? DEFAULT_BUNDLE)),
    forge: overrides.forge ?? (config.forge ? new GitHubForge({ baseUrl: config.forge.url, repository: config.forge.repo, token: config.forge.token, log }) : undefined),
    notifier: overrides.notifier ?? notifierFrom(config, log),
    watcher: overrides.watcher ?? watcherFrom(config),
    prometheus: overrides.prometheus ?? (config.prometheus ? new PrometheusClient({ url: config.prometheus.url, token: config.prometheus.token }) : undefined),
  };
}
