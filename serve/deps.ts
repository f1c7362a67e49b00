// Builds what the server needs from its configuration: signer, bundle, forge, notifier, controller watcher, Prometheus.
import type { Logger } from 'pino';
import { createLogger } from './observability.ts';
import { DEFAULT_BUNDLE } from '../app/bundle.ts';
import type { DecisionBundle } from '../engine/decide.ts';
import { DecisionPool } from '../engine/pool.ts';
import { act, type ActResult } from '../app/act.ts';
import { loadDecisionCore, type BundleLike, type DecisionCore } from '../app/core.ts';
import type { Diagnosis } from '../engine/types.ts';
import { parseDuration } from '../app/verify.ts';
import type { Forge } from '../gitops/forge/forge.ts';
import { createForge } from '../gitops/forge/registry.ts';
import { LogNotifier, NoopNotifier, WebhookNotifier, type Notifier } from '../gitops/notify.ts';
import { loadSigner } from '../gitops/sign/load.ts';
import type { Signer } from '../gitops/sign/signer.ts';
import { PrometheusClient, type MetricRule } from '../gitops/verify/metrics.ts';
import { ArgoCdWatcher, FluxCommandWatcher, type ReconcileWatcher } from '../gitops/verify/reconciliation.ts';
import type { WorkBus } from './bus.ts';
import type { ServeConfig } from './config.ts';
import type { AlertDiagnosis } from './diagnosis.ts';

/** What the server runs with; `serverDeps` builds it from the configuration, tests substitute parts. */
export interface ServerDeps {
  signer: Signer | null;
  bundle: BundleLike;
  core?: DecisionCore;
  /** Where decisions run (engine/pool.ts); without one they run on the server's own thread. Closed with the server. */
  decisionPool?: DecisionPool;
  forge?: Forge;
  notifier?: Notifier;
  watcher?: ReconcileWatcher;
  prometheus?: PrometheusClient;
  /** The LLM diagnosis tier for /v1/alertmanager (serve.yaml `diagnosis.tier: llm`); absent: the heuristic mapping. */
  alertDiagnosis?: AlertDiagnosis;
  /** Free-text events (decisions, verifications); default: an `info` line of the JSON logger. */
  log?: (line: string) => void;
  /** The work bus when `queue.kind` is nats (connected from the config otherwise); a given one is not closed. */
  bus?: WorkBus;
  /** The JSON logger for request lines and warnings (serve/observability.ts); default: JSON lines on stderr. */
  logger?: Logger;
}

export function signerFrom(config: ServeConfig): Promise<Signer> {
  return loadSigner(config.signing.key, { field: `${config.source}: signing.key`, ...(config.signing.format ? { format: config.signing.format } : {}) });
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
  const logger = overrides.logger ?? createLogger();
  const log = overrides.log ?? ((line: string) => logger.info(line));
  const core = overrides.core ?? (await loadDecisionCore());
  const bundleDir = config.bundle ?? DEFAULT_BUNDLE;
  const bundle = overrides.bundle ?? (await core.loadBundle(bundleDir));
  return {
    core,
    log,
    logger,
    signer: overrides.signer !== undefined ? overrides.signer : await signerFrom(config),
    bundle,
    // decisions run in worker threads that are terminated on overrun (a substituted bundle decides in process)
    decisionPool: overrides.decisionPool ?? (overrides.bundle ? undefined : new DecisionPool({ bundleDir, bundle: bundle as unknown as DecisionBundle, log })),
    forge: overrides.forge ?? (config.forge ? createForge(config.forge.kind, { url: config.forge.url, repo: config.forge.repo, ...(config.forge.token ? { token: config.forge.token } : {}), log }, `${config.source}: forge.kind`) : undefined),
    notifier: overrides.notifier ?? notifierFrom(config, log),
    watcher: overrides.watcher ?? watcherFrom(config),
    prometheus: overrides.prometheus ?? (config.prometheus ? new PrometheusClient({ url: config.prometheus.url, token: config.prometheus.token }) : undefined),
    // the Anthropic SDK is loaded only when the LLM tier is configured
    alertDiagnosis: overrides.alertDiagnosis ?? (config.diagnosis.tier === 'llm' ? (await import('./diagnosis.ts')).alertDiagnosisFrom(config, log) : undefined),
  };
}

/** The decision core that decides in the pool's worker threads when serve has one (a runaway evaluation blocks a
 * terminable worker, never the event loop), else the in-process core. */
export function pooledCore(inProcess: DecisionCore, pool: DecisionPool | undefined): DecisionCore {
  return pool ? { ...inProcess, decide: ({ diagnosis, context, service }) => pool.decide({ diagnosis, context, ...(service ? { service } : {}) }) } : inProcess;
}

/** Carries one diagnosis out on the configured repository: the same `act` call for the intake and the bus worker. */
export function actOnRepository(config: ServeConfig, deps: ServerDeps, core: DecisionCore, log: (line: string) => void): (diagnosis: Diagnosis) => Promise<ActResult> {
  return (diagnosis) =>
    act({
      diagnosis,
      bundle: deps.bundle,
      repo: config.repo,
      branch: config.branch,
      signer: deps.signer,
      core,
      ...(deps.forge ? { forge: deps.forge } : {}),
      ...(config.cacheDir ? { cacheDir: config.cacheDir } : {}),
      ...(deps.notifier ? { notifier: deps.notifier } : {}),
      log,
    });
}
