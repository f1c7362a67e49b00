// The work bus between the intake and the workers (issue 14), on NATS JetStream (Debian's nats-server):
//   stream   ARBITER_WORK (file storage), subjects `arbiter.work.<repository id>`: a diagnosis is stored before the
//            intake answers 202 (the publish is acknowledged only once the server has it on disk)
//   msg id   the alert fingerprint (service, top cause, incident): JetStream drops a second publish with the same id
//            inside the stream's duplicate window, and says so in the acknowledgement (counted as suppressed)
//   consumer one durable pull consumer per repository with max_ack_pending 1: however many workers pull, one
//            message of a repository is in flight at a time, in stream order; different repositories go in parallel
//   ack_wait an unacknowledged message (a worker killed mid-decision) is delivered again after ack_wait; a live
//            worker extends it with `working()` while its decision runs
// The NATS client is loaded only when a queue is configured: `serve` without one never imports it.
import { createHash } from 'node:crypto';
import { TransientError } from '../engine/errors.ts';
import { canonicalJson } from '../engine/canonical.ts';
import type { Diagnosis } from '../engine/types.ts';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Consumer, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';

export const STREAM = 'ARBITER_WORK';
export const SUBJECT_PREFIX = 'arbiter.work';
/** Counters every intake and worker adds to (suppressed duplicates, redeliveries), in a JetStream KV bucket. */
export const FIGURES_BUCKET = 'arbiter_figures';

export interface BusOptions {
  url: string;
  /** How long a delivered message may go unacknowledged before it is delivered again. */
  ackWaitMs: number;
  /** Duplicate alerts (same fingerprint) inside this window are suppressed. */
  dedupeWindowMs: number;
  /** Connection name shown by the server (`arbiter-intake`, `arbiter-worker-…`). */
  name?: string;
}

/** The repository a work item is for: location without credentials and branch, hashed into a subject token. */
export function repositoryId(repo: string, branch: string): string {
  const location = repo.replace(/\/\/[^/@]*@/, '//');
  return createHash('sha256').update(`${location}#${branch}`).digest('hex').slice(0, 16);
}

/** The cause a duplicate is judged by: the most confident hypothesis (the first on a tie). */
function topCause(diagnosis: Diagnosis): string {
  let best = diagnosis.hypotheses[0]!;
  for (const h of diagnosis.hypotheses) if (h.confidence > best.confidence) best = h;
  return best.cause;
}

/** Duplicate alerts share a fingerprint: same service, same top cause, same incident. */
export function fingerprint(diagnosis: Diagnosis): string {
  const body = { service: diagnosis.target.service, cause: topCause(diagnosis), incident: diagnosis.incident };
  return `fp-${createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 32)}`;
}

export interface WorkItem {
  repository: string;
  diagnosis: Diagnosis;
  receivedAt: string;
}

export interface Enqueued {
  stream: string;
  seq: number;
  duplicate: boolean;
  fingerprint: string;
}

export interface RepositoryFigures {
  repository: string;
  /** Stored and not yet delivered. */
  backlog: number;
  /** Delivered and not yet acknowledged (0 or 1: one at a time per repository). */
  inFlight: number;
  /** Deliveries after the first, since the bus was created (a worker died, or handed the message back). */
  redelivered: number;
  /** Duplicate alerts suppressed by fingerprint, by every intake. */
  suppressed: number;
}

export type Counter = 'suppressed' | 'redelivered';

/** A CommonJS package's named exports, whether the loader put them on the module or on its `default` (bundled). */
function named<T extends object>(mod: T): T {
  const fallback = (mod as { default?: T }).default;
  return fallback && typeof fallback === 'object' ? { ...fallback, ...mod } : mod;
}

const nanos = (ms: number): number => Math.round(ms * 1_000_000);

function unavailable(err: unknown, what: string): TransientError {
  return new TransientError(`the work bus is unavailable (${what}: ${err instanceof Error ? err.message : String(err)})`, { retryAfterSeconds: 2, hint: 'the diagnosis was not stored: send it again' });
}

/** One connection to the bus: the intake enqueues on it, workers take from it. */
export class WorkBus {
  private readonly consumers = new Map<string, Consumer>();
  private readonly ensured = new Set<string>();

  private constructor(
    readonly options: BusOptions,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly kv: KV,
  ) {}

  static async connect(options: BusOptions): Promise<WorkBus> {
    const { connect } = named(await import('@nats-io/transport-node'));
    const { jetstream, jetstreamManager } = named(await import('@nats-io/jetstream'));
    let nc: NatsConnection;
    try {
      // reconnect for ever: a restarted bus is picked up again; requests in between fail with a transient error
      nc = await connect({ servers: options.url, name: options.name ?? 'arbiter', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    } catch (err) {
      throw unavailable(err, `connect ${options.url}`);
    }
    try {
      const jsm = await jetstreamManager(nc);
      const { Kvm } = named(await import('@nats-io/kv'));
      const js = jetstream(nc);
      const kv = await new Kvm(js).create(FIGURES_BUCKET, { history: 1 });
      const bus = new WorkBus(options, nc, jsm, js, kv);
      await bus.ensureStream();
      return bus;
    } catch (err) {
      await nc.close();
      throw unavailable(err, 'set up the stream');
    }
  }

  private async ensureStream(): Promise<void> {
    const { StorageType, RetentionPolicy } = named(await import('@nats-io/jetstream'));
    const config = { subjects: [`${SUBJECT_PREFIX}.>`], storage: StorageType.File, retention: RetentionPolicy.Workqueue, duplicate_window: nanos(this.options.dedupeWindowMs) };
    try {
      await this.jsm.streams.info(STREAM);
      await this.jsm.streams.update(STREAM, config);
    } catch {
      await this.jsm.streams.add({ name: STREAM, ...config });
    }
  }

  /** The durable consumer of one repository (created on first use, shared by every worker). */
  async ensureRepository(repository: string): Promise<Consumer> {
    const existing = this.consumers.get(repository);
    if (existing) return existing;
    if (!this.ensured.has(repository)) {
      const { AckPolicy, DeliverPolicy } = named(await import('@nats-io/jetstream'));
      const config = { durable_name: `repo-${repository}`, filter_subject: `${SUBJECT_PREFIX}.${repository}`, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 1, ack_wait: nanos(this.options.ackWaitMs), max_deliver: -1 };
      try {
        await this.jsm.consumers.info(STREAM, config.durable_name);
        await this.jsm.consumers.update(STREAM, config.durable_name, { ack_wait: config.ack_wait, max_ack_pending: 1 });
      } catch {
        await this.jsm.consumers.add(STREAM, config);
      }
      this.ensured.add(repository);
    }
    const consumer = await this.js.consumers.get(STREAM, `repo-${repository}`);
    this.consumers.set(repository, consumer);
    return consumer;
  }

  /** Stores a diagnosis for a repository; resolves once the bus has it (or knows it as a duplicate). */
  async enqueue(repository: string, diagnosis: Diagnosis): Promise<Enqueued> {
    const id = fingerprint(diagnosis);
    const item: WorkItem = { repository, diagnosis, receivedAt: new Date().toISOString() };
    try {
      // the consumer must exist before the first message: a work-queue stream keeps only what some consumer will take
      await this.ensureRepository(repository);
      const ack = await this.js.publish(`${SUBJECT_PREFIX}.${repository}`, JSON.stringify(item), { msgID: id, timeout: 5_000 });
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate, fingerprint: id };
    } catch (err) {
      throw unavailable(err, 'publish');
    }
  }

  /** The next message of a repository, waiting at most `waitMs` (at least 1 s, the client's floor). */
  async next(repository: string, waitMs: number): Promise<JsMsg | null> {
    const consumer = await this.ensureRepository(repository);
    return consumer.next({ expires: Math.max(1_000, waitMs) });
  }

  /** Where the repository's work stands (the consumer) and its counters. */
  async figures(repository: string): Promise<RepositoryFigures> {
    await this.ensureRepository(repository);
    const info = await this.jsm.consumers.info(STREAM, `repo-${repository}`);
    const [redelivered, suppressed] = await Promise.all([this.counter('redelivered', repository), this.counter('suppressed', repository)]);
    return { repository, backlog: info.num_pending, inFlight: info.num_ack_pending, redelivered, suppressed };
  }

  /** The backlog and in-flight count only (what a worker polls to pick a repository). */
  async load(repository: string): Promise<{ repository: string; backlog: number; inFlight: number }> {
    await this.ensureRepository(repository);
    const info = await this.jsm.consumers.info(STREAM, `repo-${repository}`);
    return { repository, backlog: info.num_pending, inFlight: info.num_ack_pending };
  }

  async counter(name: Counter, repository: string): Promise<number> {
    const entry = await this.kv.get(`${name}.${repository}`);
    return entry && entry.operation === 'PUT' ? Number(entry.string()) || 0 : 0;
  }

  /** Adds one to a shared counter: compare-and-swap on the KV revision, so concurrent adders all count. */
  async bump(name: Counter, repository: string): Promise<void> {
    const key = `${name}.${repository}`;
    for (let attempt = 0; attempt < 20; attempt++) {
      const entry = await this.kv.get(key);
      try {
        if (!entry || entry.operation !== 'PUT') await this.kv.create(key, '1');
        else await this.kv.update(key, String((Number(entry.string()) || 0) + 1), entry.revision);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      }
    }
  }

  get connected(): boolean {
    return !this.nc.isClosed();
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
  }
}
