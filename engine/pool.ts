// Decisions in a pool of worker threads, for long-running front ends (`serve`): a policy evaluation that runs away
// (a slow builtin, a hostile input the in-evaluation budgets do not catch) blocks only its worker, which is terminated
// when the decision overruns its time budget and replaced by a fresh one. The caller's event loop (health checks,
// other requests) never waits on policy code. An overrun, a crashed worker or an evaluation bound fails closed: the
// pool answers with an escalate decision that says why, built by the same `decide` with the policies replaced by one
// escalate verdict.
import { Worker } from 'node:worker_threads';
import { decide, type DecideArgs, type DecisionBundle } from './decide.ts';
import { BundleError, InputError } from './errors.ts';
import type { CatalogService, Context, Decision, Diagnosis, PolicyBackend } from './types.ts';

/** A decision's whole budget in the pool: propose plus judge phases (250 ms each) with room for a busy machine. */
export const DEFAULT_DECISION_TIMEOUT_MS = 2_000;

export interface DecisionPoolOptions {
  /** The bundle directory (or tarball) each worker loads: the same bundle the caller decides with. */
  bundleDir: string;
  /** The caller's loaded bundle: its settings, cost model and digest make the fail-closed decision. */
  bundle: DecisionBundle;
  /** Worker threads (default 1: decisions take milliseconds; the pool exists to contain the rare runaway). */
  size?: number;
  /** Wall-clock budget of one decision inside a worker (default DEFAULT_DECISION_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Heap of one worker in MiB (default 512): a memory blowup kills the worker, not the process. */
  maxHeapMb?: number;
  log?: (line: string) => void;
}

export interface PoolDecideInput {
  diagnosis: Diagnosis;
  context: Context;
  service?: CatalogService;
}

/** Why the pool answered for the policies: recorded in the decision's rationale. */
export type FailClosedReason = 'overrun' | 'crashed' | 'bound';

interface Job {
  id: number;
  input: PoolDecideInput;
  resolve: (d: Decision) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
}

/** Reply of pool-worker.ts. */
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'load-error'; message: string }
  | { type: 'decision'; id: number; decision: Decision }
  | { type: 'error'; id: number; name: string; code?: string; message: string };

/** The escalate decision for a diagnosis whose policies could not be evaluated. */
export function failClosedDecision(bundle: DecisionBundle, input: PoolDecideInput, why: FailClosedReason, detail: string): Decision {
  const reason = `policy evaluation ${why === 'overrun' ? 'overran its time budget' : why === 'crashed' ? 'crashed its worker' : 'hit a bound'}: ${detail}`;
  const escalate: PolicyBackend = {
    name: bundle.backends[0]?.name ?? 'rego',
    policies: [],
    propose: () => [],
    judge: () => [{ policy: 'evaluation-bound', effect: 'escalate', priority: Number.MAX_SAFE_INTEGER, weight: 1, cost: 0, reason }],
  };
  const args: DecideArgs = { diagnosis: input.diagnosis, context: input.context, bundle: { ...bundle, backends: [escalate] } };
  if (input.service) args.service = input.service;
  const decision = decide(args);
  decision.rationale.push(`The decision fails closed: ${reason}; escalating to a human.`);
  return decision;
}

/** An error from a worker as the class the caller would have seen in process (errors cross threads as plain data). */
function rebuiltError(name: string, message: string, code: string | undefined): Error {
  if (name === 'BundleError') return new BundleError(message);
  if (name === 'InputError') return new InputError(message);
  return Object.assign(new Error(message), { name, ...(code ? { code } : {}) });
}

const BOOT = `const { workerData } = require('node:worker_threads');
(workerData.loader ? import(workerData.loader).then((m) => m.register()) : Promise.resolve()).then(() => import(workerData.entry));`;

export class DecisionPool {
  readonly #options: Required<Omit<DecisionPoolOptions, 'log'>> & Pick<DecisionPoolOptions, 'log'>;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;
  #loadError: Error | undefined;

  constructor(options: DecisionPoolOptions) {
    this.#options = { size: 1, timeoutMs: DEFAULT_DECISION_TIMEOUT_MS, maxHeapMb: 512, ...options };
    for (let i = 0; i < Math.max(1, this.#options.size); i++) this.#slots.push(this.#spawn());
  }

  /** Decides in a worker; resolves with an escalate decision on overrun, worker crash or evaluation bound. */
  decide(input: PoolDecideInput): Promise<Decision> {
    if (this.#closed) return Promise.reject(new Error('the decision pool is closed'));
    if (this.#loadError) return Promise.reject(this.#loadError);
    return new Promise<Decision>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, input, resolve, reject });
      this.#dispatch();
    });
  }

  /** Workers replaced after an overrun or crash since the pool started. */
  replaced = 0;

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new Error('the decision pool is closed'));
    await Promise.all(
      this.#slots.map(async (s) => {
        if (s.timer) clearTimeout(s.timer);
        s.job?.reject(new Error('the decision pool is closed'));
        s.job = undefined;
        await s.worker.terminate();
      }),
    );
  }

  #spawn(): Slot {
    const entry = new URL(`./pool-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
    const loader = entry.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : undefined;
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: { entry, loader, bundleDir: this.#options.bundleDir },
      resourceLimits: { maxOldGenerationSizeMb: this.#options.maxHeapMb },
    });
    const slot: Slot = { worker, ready: false };
    worker.unref();
    worker.on('message', (m: WorkerReply) => this.#onMessage(slot, m));
    worker.on('error', (err) => this.#onExit(slot, err.message));
    worker.on('exit', (code) => this.#onExit(slot, `worker exited with code ${code}`));
    return slot;
  }

  #onMessage(slot: Slot, m: WorkerReply): void {
    if (m.type === 'ready') {
      slot.ready = true;
      this.#dispatch();
      return;
    }
    if (m.type === 'load-error') {
      this.#loadError = new Error(`decision worker cannot load the bundle: ${m.message}`);
      for (const job of this.#queue.splice(0)) job.reject(this.#loadError);
      return;
    }
    const job = slot.job;
    if (!job || job.id !== m.id) return;
    this.#finish(slot);
    if (m.type === 'decision') job.resolve(m.decision);
    else if (m.name === 'EvalBudgetError') job.resolve(failClosedDecision(this.#options.bundle, job.input, 'bound', m.message));
    else job.reject(rebuiltError(m.name, m.message, m.code));
    this.#dispatch();
  }

  #onExit(slot: Slot, why: string): void {
    const i = this.#slots.indexOf(slot);
    if (i < 0) return; // already replaced
    const job = slot.job;
    this.#finish(slot);
    this.#slots.splice(i, 1);
    if (this.#closed) return;
    this.#options.log?.(`decision worker stopped (${why}); starting a new one`);
    this.replaced++;
    this.#slots.push(this.#spawn());
    if (job) job.resolve(failClosedDecision(this.#options.bundle, job.input, 'crashed', why));
  }

  #finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (!slot.ready || slot.job) continue;
      const job = this.#queue.shift()!;
      slot.job = job;
      slot.timer = setTimeout(() => this.#overrun(slot, job), this.#options.timeoutMs);
      slot.worker.postMessage({ id: job.id, input: job.input });
    }
  }

  #overrun(slot: Slot, job: Job): void {
    if (slot.job !== job) return;
    const i = this.#slots.indexOf(slot);
    this.#finish(slot);
    if (i >= 0) this.#slots.splice(i, 1);
    this.replaced++;
    this.#options.log?.(`decision for ${job.input.diagnosis.id} overran ${this.#options.timeoutMs} ms; its worker is terminated and replaced`);
    void slot.worker.terminate();
    if (!this.#closed) this.#slots.push(this.#spawn());
    job.resolve(failClosedDecision(this.#options.bundle, job.input, 'overrun', `no answer within ${this.#options.timeoutMs} ms`));
    this.#dispatch();
  }
}
