// The HTTP intake (`arbiter serve`, DESIGN §8) on node:http:
//   POST /v1/diagnoses      Diagnosis as JSON or YAML
//   POST /v1/cloudevents    CloudEvent, structured or binary mode, data = Diagnosis
//   POST /v1/alertmanager   Alertmanager webhook v4 → Diagnosis (engine/alertmanager.ts)
//   GET  /healthz           liveness (no auth)
//   GET  /v1/status         kill switch, bundle revision, last decisions
// Each request runs `act` (serialised per repository); verification runs after the response; due follow-ups are
// reconciled on an interval. Bad input → 400 {error, field}; never a stack trace, never a partial action.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Decision, Diagnosis } from '../engine/types.ts';
import type { ActResult } from '../app/act.ts';
import { loadDecisionCore, type DecisionCore } from '../app/core.ts';
import { chooseVerification } from '../actions/verification.ts';
import { repairRepository } from '../app/repair.ts';
import { readCommit, readPath } from '../gitops/commit.ts';
import { LEDGER_BRANCH, readLedgerEntries } from '../gitops/ledger.ts';
import { reconcile } from '../app/reconcile.ts';
import { Repository } from '../gitops/repo.ts';
import { parseDuration, verifyActuation, type VerificationResult } from '../app/verify.ts';
import type { ServeConfig } from './config.ts';
import { actOnRepository, metricRules, pooledCore, type ServerDeps } from './deps.ts';
import { repositoryId, WorkBus } from './bus.ts';

export type { ServerDeps } from './deps.ts';
import { errorResponse, HttpError } from './errors.ts';
import { createLogger, createObservability, observeRequest } from './observability.ts';
import { diagnosisFromAlertmanagerBody, diagnosisFromBody, diagnosisFromCloudEvent } from './intake.ts';

/** Runs tasks one at a time, in arrival order: one queue per repository, so two requests never race needlessly. */
export class RepositoryQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined).finally(() => this.pending--);
    return result;
  }

  get size(): number {
    return this.pending;
  }

  /** Resolves when everything queued so far has finished. */
  drain(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}


export interface RecentDecision {
  id: string;
  incident: string;
  mode: string;
  action: string | null;
  service: string;
  commit: string | null;
  ledgerCommit: string | null;
  repeated: boolean;
  receivedAt: string;
  verification: 'pending' | 'not-applicable' | 'disabled' | VerificationResult['outcome'] | 'error';
}

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting, finishes in-flight requests and queued Git work, cancels verification waits; bounded. */
  close(): Promise<void>;
  /** Settles when every verification started so far has finished (tests). */
  idle(): Promise<void>;
  recent: RecentDecision[];
}

const RECENT_MAX = 50;
/** Actuated decisions this recent without a recorded verification are verified again after a restart. */
const RESUME_WITHIN_MS = 24 * 3_600_000;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new HttpError(413, `the body is larger than ${limit} bytes`, 'body'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `the body is larger than ${limit} bytes`, 'body'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m) return false;
  const given = Buffer.from(m[1]!.trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The repository location without credentials, for /v1/status. */
function publicLocation(repo: string): string {
  return repo.replace(/\/\/[^/@]*@/, '//');
}

/** Configurations that run but with less protection than an operator would assume: logged as warnings at startup. */
export function degradedConfiguration(config: ServeConfig, deps: Pick<ServerDeps, 'prometheus' | 'forge' | 'signer'>): { code: string; message: string }[] {
  const out: { code: string; message: string }[] = [];
  if (!config.intake.token) out.push({ code: 'no-intake-token', message: 'no intake token configured; anyone who can reach this address can submit diagnoses' });
  if (!config.verification.enabled || !deps.prometheus) {
    out.push({
      code: 'verification-disabled',
      message: `verification is disabled (${!deps.prometheus ? 'no prometheus configured' : 'verification.enabled is false'}): auto and notify actions are committed and never checked or reverted`,
    });
  }
  if (!deps.forge) out.push({ code: 'no-forge', message: 'no forge configured: approval-mode decisions push their branch but open no pull request (a human must open it by hand)' });
  if (!deps.signer) out.push({ code: 'unsigned', message: 'no signing key: commits are unsigned and `arbiter audit` cannot verify them' });
  return out;
}

export async function startServer(config: ServeConfig, deps: ServerDeps): Promise<RunningServer> {
  const inProcess = deps.core ?? (await loadDecisionCore());
  // a runaway policy evaluation blocks a pool worker (terminated on overrun), never this event loop
  const pool = deps.decisionPool;
  const untimed = pooledCore(inProcess, pool);
  const logger = deps.logger ?? createLogger();
  const log = deps.log ?? ((line: string) => logger.info(line));
  const queue = new RepositoryQueue();
  const recent: RecentDecision[] = [];
  const verifications = new Set<Promise<unknown>>();
  const obs = createObservability({ logger, queueDepth: () => queue.size, pendingVerifications: () => verifications.size });
  const core: DecisionCore = {
    ...untimed,
    async decide(input) {
      const end = obs.evaluationSeconds.startTimer();
      try {
        return await untimed.decide(input);
      } finally {
        end();
      }
    },
  };
  const actOn = actOnRepository(config, deps, core, log);
  const inFlight = new Set<Promise<unknown>>();
  const shutdown = new AbortController();
  let closing = false;
  const reconcileState: { lastRun: string | null; lastError: string | null; steps: number } = { lastRun: null, lastError: null, steps: 0 };
  for (const warning of degradedConfiguration(config, deps)) logger.warn({ warning: warning.code }, warning.message);

  const metrics = metricRules(config);

  // with a bus configured the intake only stores diagnoses (202 once the bus has them); workers carry them out
  const queueConfig = config.queue.kind === 'nats' ? config.queue : undefined;
  const bus = queueConfig
    ? (deps.bus ?? (await WorkBus.connect({ url: queueConfig.url, ackWaitMs: parseDuration(queueConfig.ackWait)!, dedupeWindowMs: parseDuration(queueConfig.dedupeWindow)!, name: 'arbiter-intake' })))
    : undefined;
  const repository = repositoryId(config.repo, config.branch);
  const queued = { enqueued: 0, suppressed: 0 };

  function remember(result: ActResult, verification: RecentDecision['verification']): RecentDecision {
    const d = result.decision;
    const entry: RecentDecision = {
      id: d.id,
      incident: d.incident,
      mode: d.mode,
      action: d.action?.kind ?? null,
      service: (d.action?.target ?? d.target).service,
      commit: result.actuation.commit,
      ledgerCommit: result.actuation.ledgerCommit,
      repeated: result.actuation.repeated,
      receivedAt: new Date().toISOString(),
      verification,
    };
    recent.unshift(entry);
    recent.length = Math.min(recent.length, RECENT_MAX);
    return entry;
  }

  function scheduleVerification(decision: Decision, commit: string, signals: Diagnosis['signals'], entry: RecentDecision): void {
    // the action's preferred metric the diagnosis measured and a query exists for, else the action's default
    const spec = chooseVerification(decision.action!.kind, core.getAction(decision.action!.kind).verification, signals, Object.keys(metrics)).spec;
    const task = verifyActuation({
      repo: config.repo,
      branch: config.branch,
      cacheDir: config.cacheDir,
      signer: deps.signer,
      decision,
      commit,
      spec,
      signal: signals?.[spec.metric],
      watcher: deps.watcher,
      prometheus: deps.prometheus!,
      metrics,
      reconcileTimeoutMs: parseDuration(config.verification.reconcileTimeout)!,
      pollMs: parseDuration(config.verification.pollInterval)!,
      ...(config.verification.window ? { windowMs: parseDuration(config.verification.window)! } : {}),
      consecutive: config.verification.consecutive,
      notifier: deps.notifier,
      abort: shutdown.signal,
      serialise: (fn) => queue.run(fn),
      log,
    })
      .then((v) => {
        entry.verification = v.outcome;
        obs.verifications.inc({ outcome: v.outcome });
        log(`verification of ${decision.id}: ${v.outcome}${v.compensation ? `; compensation ${v.compensation.outcome}${v.compensation.commit ? ` ${v.compensation.commit}` : ''}` : ''}`);
      })
      .catch((err: unknown) => {
        entry.verification = 'error';
        obs.verifications.inc({ outcome: 'error' });
        if (!shutdown.signal.aborted) log(`verification of ${decision.id} failed: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(() => verifications.delete(task));
    verifications.add(task);
  }

  async function enqueue(diagnosis: Diagnosis, res: ServerResponse): Promise<void> {
    const stored = await bus!.enqueue(repository, diagnosis);
    if (stored.duplicate) {
      queued.suppressed++;
      await bus!.bump('suppressed', repository).catch(() => undefined);
    } else queued.enqueued++;
    log(`diagnosis ${diagnosis.id} (${diagnosis.incident}) ${stored.duplicate ? `suppressed: same fingerprint as stored message ${stored.seq}` : `stored as message ${stored.seq}`}`);
    send(res, 202, { decision: null, actuation: null, queued: { stream: stored.stream, seq: stored.seq, duplicate: stored.duplicate, fingerprint: stored.fingerprint } });
  }

  async function handleIntake(diagnosis: Diagnosis, res: ServerResponse): Promise<void> {
    if (bus) return enqueue(diagnosis, res);
    const endActuation = obs.actuationSeconds.startTimer();
    const result: ActResult = await queue.run(() => actOn(diagnosis));
    const { decision, actuation } = result;
    endActuation({ mode: decision.mode });
    const outcome = actuation.repeated ? 'repeated' : actuation.pullRequest ? 'pull-request' : actuation.commit ? 'committed' : 'recorded';
    obs.decisions.inc({ mode: decision.mode, action: decision.action?.kind ?? 'none', outcome });
    const verifies = (decision.mode === 'auto' || decision.mode === 'notify') && actuation.commit !== null && !actuation.repeated && decision.action !== null;
    let verification: RecentDecision['verification'] = 'not-applicable';
    if (verifies) verification = config.verification.enabled && deps.prometheus ? 'pending' : 'disabled';
    const entry = remember(result, verification);
    log(`decision ${decision.id} (${decision.incident}): ${decision.mode}${decision.action ? ` ${decision.action.kind}` : ''}${actuation.commit ? ` commit ${actuation.commit}` : ''}${actuation.repeated ? ' (repeated)' : ''}`);
    send(res, verification === 'pending' ? 202 : 200, { decision, actuation, verification });
    if (verification === 'pending') scheduleVerification(decision, actuation.commit!, diagnosis.signals, entry);
  }

  async function busStatus(): Promise<Record<string, unknown>> {
    // enqueued/suppressedHere: this intake since it started; the rest is the bus's, shared by every intake and worker
    const base = { kind: 'nats', repository, connected: bus!.connected, enqueued: queued.enqueued, suppressedHere: queued.suppressed };
    try {
      const f = await bus!.figures(repository);
      return { ...base, backlog: f.backlog, inFlight: f.inFlight, redelivered: f.redelivered, suppressed: f.suppressed };
    } catch (err) {
      return { ...base, backlog: null, inFlight: null, redelivered: null, suppressed: null, error: err instanceof Error ? err.message : String(err) };
    }
  }

  async function status(): Promise<unknown> {
    let repository: Record<string, unknown>;
    try {
      repository = await queue.run(async () => {
        const repo = await Repository.open(config.repo, { cacheDir: config.cacheDir });
        try {
          return await repo.withCacheLock(async () => {
            await repo.sync([config.branch]);
            const tip = await repo.tip(config.branch);
            if (!tip) return { reachable: true, tip: null, killSwitch: null };
            const paused = (await readPath(repo.store, (await readCommit(repo.store, tip)).tree, '.arbiter/pause')) !== undefined;
            return { reachable: true, tip, killSwitch: paused };
          });
        } finally {
          repo.store.close();
        }
      });
    } catch (err) {
      repository = { reachable: false, killSwitch: null, error: (err as Error).message };
    }
    return {
      killSwitch: repository.killSwitch,
      repository: { location: publicLocation(config.repo), branch: config.branch, ...repository, killSwitch: undefined },
      bundle: { revision: deps.bundle.revision, digest: deps.bundle.digest },
      verification: { enabled: config.verification.enabled && deps.prometheus !== undefined, pending: verifications.size, controller: deps.watcher?.name ?? null },
      reconcile: reconcileState,
      queue: bus ? await busStatus() : { kind: 'memory', pending: queue.size },
      lastDecisions: recent.slice(0, 20),
    };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET', undefined, { allow: 'GET' });
      return send(res, closing ? 503 : 200, { status: closing ? 'shutting-down' : 'ok' });
    }
    const intake: Record<string, (text: string, headers: IncomingMessage['headers']) => Diagnosis | { ignored: string }> = {
      '/v1/diagnoses': diagnosisFromBody,
      '/v1/cloudevents': diagnosisFromCloudEvent,
      '/v1/alertmanager': diagnosisFromAlertmanagerBody,
    };
    if (path !== '/v1/status' && path !== '/metrics' && !intake[path]) throw new HttpError(404, `no such endpoint ${path}`);
    if (!authorized(req, config.intake.token)) throw new HttpError(401, 'missing or wrong bearer token', 'authorization', { 'www-authenticate': 'Bearer realm="arbiter"' });
    if (path === '/metrics') {
      // behind the intake token like /v1/status: Prometheus sends it with `authorization: { credentials_file: … }`
      if (req.method !== 'GET') throw new HttpError(405, 'use GET', undefined, { allow: 'GET' });
      const text = await obs.registry.metrics();
      res.writeHead(200, { 'content-type': obs.registry.contentType, 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
      return;
    }
    if (path === '/v1/status') {
      if (req.method !== 'GET') throw new HttpError(405, 'use GET', undefined, { allow: 'GET' });
      return send(res, 200, await status());
    }
    if (req.method !== 'POST') throw new HttpError(405, 'use POST', undefined, { allow: 'POST' });
    if (closing) throw new HttpError(503, 'shutting down', undefined, { 'retry-after': '5' });
    const text = await readBody(req, config.intake.maxBodyBytes);
    const parsed = path === '/v1/alertmanager' && deps.alertDiagnosis ? await deps.alertDiagnosis(text, req.headers) : intake[path]!(text, req.headers);
    if ('ignored' in parsed) return send(res, 200, { decision: null, actuation: null, ignored: parsed.ignored });
    await handleIntake(parsed, res);
  }

  const server = createServer((req, res) => {
    observeRequest(obs, req, res);
    const task = route(req, res)
      .catch((err: unknown) => {
        const response = errorResponse(err);
        // unexpected: the message only (never a stack); the request did nothing partial (act writes refs last)
        if (response.status === 500) log(`internal error on ${req.method} ${req.url}: ${response.body.error}`);
        send(res, response.status, response.body, response.headers);
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  });
  server.requestTimeout = 120_000;

  // due follow-ups (scheduled reverts, staged promotions) on an interval, through the same queue
  const interval = parseDuration(config.reconcile.interval)!;
  let reconciling = false;
  const timer =
    interval > 0
      ? setInterval(() => {
          if (reconciling || closing) return;
          reconciling = true;
          queue
            .run(() => reconcile({ repo: config.repo, branch: config.branch, signer: deps.signer, cacheDir: config.cacheDir, settings: deps.bundle.settings, ...(deps.forge ? { forge: deps.forge } : {}), log }))
            .then((r) => {
              reconcileState.lastError = null;
              reconcileState.steps += r.steps.length;
              for (const s of r.steps) log(`follow-up ${s.kind} of ${s.decision}: ${s.outcome}${s.commit ? ` commit ${s.commit}` : ''}`);
            })
            .catch((err: unknown) => {
              reconcileState.lastError = err instanceof Error ? err.message : String(err);
              log(`reconcile failed: ${reconcileState.lastError}`);
            })
            .finally(() => {
              reconcileState.lastRun = new Date().toISOString();
              reconciling = false;
            });
        }, interval)
      : undefined;
  timer?.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // verifications cut short by a restart: the ledger says which actuations have no verification entry yet
  async function resumeVerifications(): Promise<void> {
    const entries = await queue.run(async () => {
      const repo = await Repository.open(config.repo, { cacheDir: config.cacheDir });
      try {
        return await repo.withCacheLock(async () => {
          await repo.sync([LEDGER_BRANCH]);
          return readLedgerEntries(repo.store, await repo.tip(LEDGER_BRANCH));
        });
      } finally {
        repo.store.close();
      }
    });
    const verified = new Set(entries.flatMap((e) => (e.kind === 'Verification' && e.id.endsWith('.verification') ? [e.decision] : [])));
    const horizon = Date.now() - RESUME_WITHIN_MS;
    for (const d of entries) {
      if (d.kind !== 'Decision') continue;
      if ((d.mode !== 'auto' && d.mode !== 'notify') || !d.action || !d.actuation.commit || d.actuation.branch !== config.branch) continue;
      if (verified.has(d.id) || Date.parse(d.decidedAt) < horizon) continue;
      const { actuation, followUp: _followUp, ...decision } = d;
      const entry: RecentDecision = { id: d.id, incident: d.incident, mode: d.mode, action: d.action.kind, service: d.action.target.service, commit: actuation.commit, ledgerCommit: null, repeated: false, receivedAt: new Date().toISOString(), verification: 'pending' };
      recent.unshift(entry);
      log(`resuming the verification of ${d.id} (commit ${actuation.commit})`);
      // the diagnosis signals are not in the ledger: only threshold rules can judge a resumed verification
      scheduleVerification(decision, actuation.commit!, undefined, entry);
    }
  }
  // an arbiter commit a crash left without its ledger entry is recorded before the first request
  await queue
    .run(() => repairRepository(config.repo, { branch: config.branch, signer: deps.signer ?? undefined, now: () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), log, ...(config.cacheDir ? { cacheDir: config.cacheDir } : {}) }))
    .catch((err: unknown) => log(`cannot repair the ledger: ${err instanceof Error ? err.message : String(err)}`));
  if (config.verification.enabled && deps.prometheus) {
    await resumeVerifications().catch((err: unknown) => log(`cannot resume pending verifications: ${err instanceof Error ? err.message : String(err)}`));
  }

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log(`listening on ${url} (repository ${publicLocation(config.repo)}, branch ${config.branch}, bundle ${deps.bundle.revision})`);

  return {
    url,
    port: address.port,
    recent,
    idle: async () => {
      while (verifications.size) await Promise.allSettled([...verifications]);
    },
    async close() {
      if (closing) return;
      closing = true;
      if (timer) clearInterval(timer);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = parseDuration(config.timeouts.shutdown)!;
      const bounded = <T>(p: Promise<T>): Promise<unknown> => Promise.race([p, new Promise((r) => setTimeout(r, grace).unref())]);
      // requests already accepted finish (their act runs to the end); verification waits are cancelled
      await bounded(Promise.allSettled([...inFlight]));
      shutdown.abort(new Error('arbiter serve is shutting down'));
      await bounded(Promise.allSettled([...verifications]));
      await bounded(queue.drain());
      server.closeAllConnections();
      await stopped;
      await pool?.close();
      if (!deps.bus) await bus?.close();
      log('stopped');
    },
  };
}
