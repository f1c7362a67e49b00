// Issue 14: the intake and workers on a real NATS JetStream (Debian's nats-server on 127.0.0.1, a temporary store),
// against real `git http-backend` remotes. Nothing lost, nothing doubled (ledger entries counted per idempotency
// key), per-repository order kept, through a worker killed mid-decision, a bus restart and a duplicate storm.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, repositoryId, WorkBus } from '../../serve/bus.ts';
import { validateServeConfig } from '../../serve/config.ts';
import { startServer, type RunningServer } from '../../serve/server.ts';
import { startWorker, workerTarget, type RunningWorker, type WorkerTarget } from '../../serve/worker.ts';
import { busFixture, until, type BusFixture } from '../support/bus-fixture.ts';
import { startNats, type NatsServer } from '../support/nats.ts';
import { describeNeeding } from '../support/needs.ts';

const ARBITER = fileURLToPath(new URL('../../bin/arbiter', import.meta.url));

describe('queue configuration', () => {
  it('a nats queue needs a nats:// URL, named by field', () => {
    expect(() => validateServeConfig({ repo: '/r', signing: { key: 'k' }, queue: { kind: 'nats', url: 'http://x' } }, 'serve.yaml', '/')).toThrow(/queue\.url/);
    expect(() => validateServeConfig({ repo: '/r', signing: { key: 'k' }, queue: { kind: 'kafka' } }, 'serve.yaml', '/')).toThrow(/queue/);
  });
  it('without a queue the server keeps its in-process queue', () => {
    expect(validateServeConfig({ repo: '/r', signing: { key: 'k' } }, 'serve.yaml', '/').queue).toEqual({ kind: 'memory' });
  });
});

describe('fingerprint', () => {
  const base = { apiVersion: 'arbiter.dev/v1', kind: 'Diagnosis', id: 'd', incident: 'INC-1', observedAt: '2026-01-01T00:00:00Z', target: { service: 'checkout' }, hypotheses: [{ cause: 'memory-leak', confidence: 0.9 }] } as const;
  it('ignores the diagnosis id, time and evidence; changes with service, top cause or incident', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 59 }), fc.constantFrom('INC-2', 'INC-3'), (id, minute, incident) => {
        const same = { ...base, id, observedAt: `2026-01-01T00:${String(minute).padStart(2, '0')}:00Z`, hypotheses: [{ cause: 'memory-leak', confidence: 0.9, evidence: [id] }, { cause: 'bad-deployment', confidence: 0.2 }] };
        expect(fingerprint(same as never)).toBe(fingerprint(base as never));
        expect(fingerprint({ ...base, incident } as never)).not.toBe(fingerprint(base as never));
        expect(fingerprint({ ...base, target: { service: `s${minute}` } } as never)).not.toBe(fingerprint(base as never));
        expect(fingerprint({ ...same, hypotheses: [{ cause: 'memory-leak', confidence: 0.1 }, { cause: 'bad-deployment', confidence: 0.5 }] } as never)).not.toBe(fingerprint(base as never));
      }),
    );
  });
});

describeNeeding(['nats-server'], 'on a real NATS JetStream', () => {
  let nats: NatsServer;
  let fx: BusFixture;
  const workers: RunningWorker[] = [];
  const buses: WorkBus[] = [];
  const servers: RunningServer[] = [];

  const connect = async (ackWaitMs = 30_000): Promise<WorkBus> => {
    const bus = await WorkBus.connect({ url: nats.url, ackWaitMs, dedupeWindowMs: 120_000, name: 'test' });
    buses.push(bus);
    return bus;
  };
  const intake = async (r: number, ackWait = '30s'): Promise<RunningServer> => {
    const { config } = fx.config(r, nats.url, { ackWait });
    const server = await startServer(config, await fx.deps(config));
    servers.push(server);
    return server;
  };
  const post = (server: RunningServer, body: unknown): Promise<Response> =>
    fetch(`${server.url}/v1/diagnoses`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const target = async (r: number, cache: string, ackWait = '30s'): Promise<WorkerTarget> => {
    const { config } = fx.config(r, nats.url, { cache, ackWait });
    return workerTarget(config, await fx.deps(config), () => undefined);
  };
  const keysOnce = (r: number): void => {
    const keys = fx.ledger(r).map((e) => e.idempotencyKey);
    expect(new Set(keys).size, `ledger of repository ${r} has a key twice`).toBe(keys.length);
  };

  beforeAll(async () => {
    nats = await startNats();
    fx = await busFixture(6);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await Promise.allSettled(servers.map((s) => s.close()));
    await Promise.allSettled(buses.map((b) => b.close()));
    await fx?.cleanup();
    await nats?.dispose();
  });

  it('the intake answers 202 once stored; two workers land every diagnosis once, in order per repository', async () => {
    const a = await intake(0);
    const b = await intake(1);
    for (let n = 0; n < 5; n++) {
      for (const [r, server] of [[0, a], [1, b]] as const) {
        const res = await post(server, fx.diagnosis(r, n));
        const body = (await res.json()) as any;
        expect(res.status, JSON.stringify(body)).toBe(202);
        expect(body.queued).toMatchObject({ duplicate: false, stream: 'ARBITER_WORK' });
      }
    }
    // stored before any worker runs: the backlog says so
    const status = (await (await fetch(`${a.url}/v1/status`)).json()) as any;
    expect(status.queue).toMatchObject({ kind: 'nats', backlog: 5, enqueued: 5, suppressed: 0 });
    const bus1 = await connect();
    const bus2 = await connect();
    const targets1 = [await target(0, 'w1'), await target(1, 'w1')];
    const targets2 = [await target(0, 'w2'), await target(1, 'w2')];
    workers.push(startWorker({ bus: bus1, targets: targets1, log: () => undefined }), startWorker({ bus: bus2, targets: targets2, log: () => undefined }));
    await until(() => fx.ledger(0).length >= 5 && fx.ledger(1).length >= 5, 'ten decisions landed');
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    for (const r of [0, 1]) {
      const ledger = fx.ledger(r);
      expect(ledger.map((e) => e.incident)).toEqual([0, 1, 2, 3, 4].map((n) => fx.diagnosis(r, n).incident));
      keysOnce(r);
    }
    const after = (await (await fetch(`${a.url}/v1/status`)).json()) as any;
    expect(after.queue).toMatchObject({ backlog: 0, inFlight: 0 });
  }, 120_000);

  it('a storm of duplicate alerts is stored once and the suppressions are counted', async () => {
    const server = await intake(2);
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push((await (await post(server, fx.diagnosis(2, 0, { id: `storm-${i}` }))).json()) as any);
    expect(answers.filter((a) => a.queued.duplicate === false)).toHaveLength(1);
    expect(answers.filter((a) => a.queued.duplicate === true)).toHaveLength(19);
    const status = (await (await fetch(`${server.url}/v1/status`)).json()) as any;
    expect(status.queue).toMatchObject({ enqueued: 1, suppressed: 19, backlog: 1 });
    const worker = startWorker({ bus: await connect(), targets: [await target(2, 'storm')], log: () => undefined });
    workers.push(worker);
    await until(() => fx.ledger(2).length >= 1 && worker.figures.done >= 1, 'the stored alert landed');
    await worker.stop();
    expect(fx.ledger(2)).toHaveLength(1);
    expect(fx.ledger(2)[0]!.incident).toBe(fx.diagnosis(2, 0).incident);
  }, 60_000);

  it('a worker killed mid-decision (after its branch moved) has its work redelivered; the ledger shows one decision', async () => {
    const server = await intake(3, '2s');
    const { file } = fx.config(3, nats.url, { cache: 'doomed', ackWait: '2s' });
    // the doomed worker is a real process, killed with SIGKILL between moving main and appending the ledger
    const doomed = spawn(process.execPath, [ARBITER, 'worker', '--config', file], { env: { ...process.env, ARBITER_FAULT_POINT: 'branch-moved' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => doomed.once('exit', (_code, signal) => resolve(signal)));
    for (let n = 0; n < 3; n++) expect((await post(server, fx.diagnosis(3, n))).status).toBe(202);
    expect(await exited).toBe('SIGKILL');
    // the actuation commit is on main, its ledger entry is not: the message is still unacknowledged on the bus
    expect(fx.actuations(3)).toHaveLength(1);
    expect(fx.ledger(3)).toHaveLength(0);
    const worker = startWorker({ bus: await connect(2_000), targets: [await target(3, 'survivor', '2s')], log: () => undefined });
    workers.push(worker);
    await until(() => fx.ledger(3).length >= 3, 'three decisions after the redelivery');
    await worker.stop();
    expect(fx.ledger(3).map((e) => e.incident)).toEqual([0, 1, 2].map((n) => fx.diagnosis(3, n).incident));
    keysOnce(3);
    // one actuation commit per decision: the redelivered one was recorded, not carried out again
    expect(fx.actuations(3)).toHaveLength(3);
    const status = (await (await fetch(`${server.url}/v1/status`)).json()) as any;
    expect(status.queue.redelivered).toBeGreaterThanOrEqual(1);
    expect(status.queue.backlog).toBe(0);
  }, 120_000);

  it('a bus restart keeps what was stored; while it is down the intake answers 503 with Retry-After', async () => {
    const server = await intake(4);
    for (let n = 0; n < 3; n++) expect((await post(server, fx.diagnosis(4, n))).status).toBe(202);
    await nats.stop(true);
    const down = await post(server, fx.diagnosis(4, 99));
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toMatch(/^\d+$/);
    await nats.start();
    await until(async () => (await post(server, fx.diagnosis(4, 3))).status === 202, 'the intake stores again after the bus came back', 30_000, 250);
    const worker = startWorker({ bus: await connect(), targets: [await target(4, 'restart')], log: () => undefined });
    workers.push(worker);
    await until(() => fx.ledger(4).length >= 4, 'four decisions after the restart');
    await worker.stop();
    expect(fx.ledger(4).map((e) => e.incident)).toEqual([0, 1, 2, 3].map((n) => fx.diagnosis(4, n).incident));
    keysOnce(4);
  }, 120_000);

  it('one slow repository does not hold up another; each keeps its order', async () => {
    const bus = await connect();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = await target(5, 'slow');
    const held: WorkerTarget = { repository: slow.repository, handle: async (d) => (await gate, slow.handle(d)) };
    const fast = await target(1, 'fast');
    const before = fx.ledger(1).length;
    for (let n = 0; n < 3; n++) expect((await bus.enqueue(slow.repository, fx.diagnosis(5, n))).duplicate).toBe(false);
    for (let n = 10; n < 13; n++) expect((await bus.enqueue(repositoryId(fx.repos[1]!.url, 'main'), fx.diagnosis(1, n))).duplicate).toBe(false);
    const worker = startWorker({ bus, targets: [held, fast], concurrency: 2, log: () => undefined });
    workers.push(worker);
    await until(() => fx.ledger(1).length >= before + 3, 'the fast repository landed its three');
    expect(fx.ledger(5)).toHaveLength(0);
    expect((await bus.figures(slow.repository)).inFlight).toBe(1);
    release();
    await until(() => fx.ledger(5).length >= 3, 'the slow repository landed its three');
    await worker.stop();
    expect(fx.ledger(5).map((e) => e.incident)).toEqual([0, 1, 2].map((n) => fx.diagnosis(5, n).incident));
    expect(fx.ledger(1).slice(before).map((e) => e.incident)).toEqual([10, 11, 12].map((n) => fx.diagnosis(1, n).incident));
    keysOnce(1);
    keysOnce(5);
  }, 120_000);

  it('arbiter worker drains on SIGTERM and exits 0', async () => {
    const { file } = fx.config(0, nats.url, { cache: 'term' });
    const child = spawn(process.execPath, [ARBITER, 'worker', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until(() => stdout.includes('"worker"'), 'the worker is ready', 60_000);
    const bus = await connect();
    const before = fx.ledger(0).length;
    await bus.enqueue(repositoryId(fx.repos[0]!.url, 'main'), fx.diagnosis(0, 50));
    await until(() => fx.ledger(0).length > before, 'the worker landed the diagnosis');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/stopped: \{"done":1,/);
  }, 120_000);
});
