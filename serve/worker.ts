// The worker role (issue 14): takes diagnoses from the work bus (serve/bus.ts) and carries each out with `act`.
// At least once from the bus, exactly once on the ledger: a message is acknowledged only after `act` returned, and a
// message delivered again (a worker died mid-decision, the bus restarted) finds its idempotency key in the ledger, or
// its commit on the branch without an entry (recorded then), and writes nothing twice (app/act.ts, app/transaction.ts).
// Each slot carries out one decision at a time; the bus hands out one message per repository at a time, so one
// repository's work is serialized in arrival order while different repositories proceed in parallel.
import type { JsMsg } from '@nats-io/jetstream';
import type { ActResult } from '../app/act.ts';
import { ArbiterError, errorKind } from '../engine/errors.ts';
import { validateDiagnosis } from '../engine/ingest.ts';
import type { Diagnosis } from '../engine/types.ts';
import type { ServeConfig } from './config.ts';
import { repositoryId, type WorkBus, type WorkItem } from './bus.ts';
import { actOnRepository, pooledCore, type ServerDeps } from './deps.ts';
import type { DecisionCore } from '../app/core.ts';
import { loadDecisionCore } from '../app/core.ts';

/** One repository a worker serves: how to carry a diagnosis out there. */
export interface WorkerTarget {
  repository: string;
  handle(diagnosis: Diagnosis): Promise<ActResult>;
}

export interface WorkerFigures {
  /** Messages acknowledged after their decision landed (or was found already landed). */
  done: number;
  /** Of those, found already recorded (a redelivery or a replay): nothing written. */
  repeated: number;
  /** Handed back to the bus after a transient failure (delivered again later). */
  retried: number;
  /** Given up on: malformed, or failing the same way `maxDeliver` times (logged; the repository moves on). */
  rejected: number;
  /** Decisions running now. */
  inFlight: number;
}

export interface WorkerOptions {
  bus: WorkBus;
  targets: WorkerTarget[];
  /** Decisions this worker carries out at once (default 1). */
  concurrency?: number;
  /** Non-transient failures are given up after this many deliveries (default 5); transient ones are retried. */
  maxDeliver?: number;
  log?: (line: string) => void;
}

export interface RunningWorker {
  figures: WorkerFigures;
  /** Graceful drain: stop fetching, finish the decisions in flight, acknowledge them, resolve. */
  stop(): Promise<void>;
}

const IDLE_POLL_MS = 100;
const ACK_TRIES = 20;

/**
 * Acknowledges and waits for the bus to confirm; across a bus restart the acknowledgement is sent again (the consumer
 * state is on disk, so a late ack still counts) rather than leaving the repository blocked until ack_wait.
 */
async function acknowledge(msg: JsMsg): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (await msg.ackAck({ timeout: 2_000 })) return;
      return; // no reply subject: nothing to confirm
    } catch {
      // not confirmed: the bus is away or the ack was lost; the client sends an ack only once unless told otherwise
      (msg as unknown as { didAck: boolean }).didAck = false;
    }
    if (attempt >= ACK_TRIES) return; // the decision is in the ledger: a redelivery finds it and writes nothing
    await sleep(250 * Math.min(attempt, 4));
  }
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function startWorker(options: WorkerOptions): RunningWorker {
  const log = options.log ?? ((line: string) => process.stderr.write(`arbiter worker: ${line}\n`));
  const { bus } = options;
  const targets = new Map(options.targets.map((t) => [t.repository, t]));
  const maxDeliver = options.maxDeliver ?? 5;
  const figures: WorkerFigures = { done: 0, repeated: 0, retried: 0, rejected: 0, inFlight: 0 };
  let stopping = false;

  /** Repositories with work, the idle ones (nobody holds their message) first. */
  async function readyOrder(rotation: number): Promise<string[]> {
    const all = [...targets.keys()];
    const rotated = [...all.slice(rotation % all.length), ...all.slice(0, rotation % all.length)];
    const seen = await Promise.all(rotated.map((r) => bus.load(r)));
    const free = seen.filter((f) => f.backlog > 0 && f.inFlight === 0).map((f) => f.repository);
    const held = seen.filter((f) => f.inFlight > 0 && !free.includes(f.repository)).map((f) => f.repository);
    return [...free, ...held];
  }

  async function carryOut(msg: JsMsg): Promise<void> {
    let item: WorkItem;
    let target: WorkerTarget | undefined;
    try {
      const raw = msg.json<WorkItem>();
      target = targets.get(raw.repository);
      if (!target) throw new Error(`no target for repository ${String(raw.repository)}`);
      // what comes off the bus is validated again: fail closed on anything a producer could have put there
      item = { ...raw, diagnosis: validateDiagnosis(raw.diagnosis, `bus message ${msg.seq}`, 'diagnosis') };
    } catch (err) {
      figures.rejected++;
      log(`message ${msg.seq} is malformed and is dropped: ${err instanceof Error ? err.message : String(err)}`);
      msg.term('malformed');
      return;
    }
    figures.inFlight++;
    if (msg.info.deliveryCount > 1) await bus.bump('redelivered', item.repository).catch(() => undefined);
    // a live worker keeps its claim: the bus redelivers only when nobody said `working` for ack_wait
    const keepAlive = setInterval(() => msg.working(), Math.max(250, Math.floor(bus.options.ackWaitMs / 3)));
    try {
      const result = await target.handle(item.diagnosis);
      await acknowledge(msg);
      figures.done++;
      if (result.actuation.repeated) figures.repeated++;
      const redelivery = msg.info.deliveryCount > 1 ? ` (delivery ${msg.info.deliveryCount})` : '';
      log(`${item.diagnosis.id} → ${result.decision.id} ${result.decision.mode}${result.actuation.repeated ? ' (already recorded)' : ''}${redelivery}`);
    } catch (err) {
      const kind = errorKind(err);
      const message = err instanceof ArbiterError ? err.message : err instanceof Error ? err.message : String(err);
      if (kind === 'input') {
        figures.rejected++;
        log(`${item.diagnosis.id} cannot be carried out and is dropped: ${message}`);
        msg.term(message.slice(0, 200));
      } else if (kind !== 'transient' && msg.info.deliveryCount >= maxDeliver) {
        figures.rejected++;
        log(`${item.diagnosis.id} failed ${msg.info.deliveryCount} times and is given up: ${message}`);
        msg.term(message.slice(0, 200));
      } else {
        figures.retried++;
        const delay = Math.min(30_000, 500 * 2 ** Math.min(msg.info.deliveryCount, 6));
        log(`${item.diagnosis.id} failed (${kind}), delivered again in ${delay} ms: ${message}`);
        msg.nak(delay);
      }
    } finally {
      clearInterval(keepAlive);
      figures.inFlight--;
    }
  }

  async function slot(index: number): Promise<void> {
    let rotation = index;
    while (!stopping) {
      try {
        const order = await readyOrder(rotation++);
        let took = false;
        for (const repository of order) {
          if (stopping) break;
          const msg = await bus.next(repository, 1_000);
          if (!msg) continue;
          if (stopping) {
            msg.nak(); // fetched while draining: straight back to the bus for another worker
            break;
          }
          took = true;
          await carryOut(msg);
          break;
        }
        if (!took) await sleep(IDLE_POLL_MS);
      } catch (err) {
        if (stopping) break;
        log(`bus: ${err instanceof Error ? err.message : String(err)}; trying again`);
        await sleep(500);
      }
    }
  }

  const slots = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, (_, i) => slot(i));
  return {
    figures,
    async stop() {
      stopping = true;
      await Promise.allSettled(slots);
    },
  };
}

/** The target for one serve config: `act` on its repository and branch with the server's dependencies. */
export async function workerTarget(config: ServeConfig, deps: ServerDeps, log: (line: string) => void): Promise<WorkerTarget> {
  const inProcess: DecisionCore = deps.core ?? (await loadDecisionCore());
  return {
    repository: repositoryId(config.repo, config.branch),
    handle: actOnRepository(config, deps, pooledCore(inProcess, deps.decisionPool), log),
  };
}
