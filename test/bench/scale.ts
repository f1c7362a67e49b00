// scale.*: M diagnoses over R repositories (real `git http-backend` remotes) through a real NATS JetStream, carried
// out by one `arbiter worker` process and then by several, in the same run; halfway through the second phase the bus
// is killed (SIGKILL) and started again. landed/duplicates/lost come from the ledgers (one entry per idempotency key
// expected). Workers are started and ready before the clock starts. Skipped with a printed reason when nats-server is
// not installed. Sizes: BENCH_SCALE_DIAGNOSES (per phase, default 200), BENCH_SCALE_WORKERS (default 3).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { repositoryId, WorkBus } from '../../serve/bus.ts';
import { busFixture, until, type BusFixture } from '../support/bus-fixture.ts';
import { natsMissing, startNats, type NatsServer } from '../support/nats.ts';

const REPOS = 4;
const ARBITER = fileURLToPath(new URL('../../bin/arbiter', import.meta.url));

interface Phase {
  perSec: number;
  landed: number;
  duplicates: number;
  lost: number;
  seconds: number;
}

async function startWorkers(fx: BusFixture, nats: NatsServer, repos: number[], count: number, label: string): Promise<ChildProcess[]> {
  const children: ChildProcess[] = [];
  for (let w = 0; w < count; w++) {
    const args = repos.flatMap((r) => ['--config', fx.config(r, nats.url, { cache: `${label}-w${w}`, ackWait: '10s' }).file]);
    const child = spawn(process.execPath, [ARBITER, 'worker', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    children.push(child);
    await until(() => out.includes('"worker"') || child.exitCode !== null, 'a worker is ready', 120_000);
    if (child.exitCode !== null) throw new Error(`arbiter worker exited with ${child.exitCode}`);
  }
  return children;
}

async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
}

export async function bench(): Promise<Record<string, unknown>> {
  const missing = natsMissing();
  if (missing) {
    process.stderr.write(`bench: scale skipped: ${missing}\n`);
    return { scale: { skipped: missing } };
  }
  const diagnoses = Number(process.env.BENCH_SCALE_DIAGNOSES ?? 200);
  const workers = Number(process.env.BENCH_SCALE_WORKERS ?? 3);
  const nats = await startNats();
  // two sets of R repositories, so both phases start from the same empty ledgers
  const fx = await busFixture(2 * REPOS);
  const intake = await WorkBus.connect({ url: nats.url, ackWaitMs: 10_000, dedupeWindowMs: 120_000, name: 'bench-intake' });
  const children: ChildProcess[] = [];
  try {
    const phase = async (first: number, count: number, restartBus: boolean): Promise<Phase> => {
      const repos = Array.from({ length: REPOS }, (_, i) => first + i);
      const running = await startWorkers(fx, nats, repos, count, `p${first}`);
      children.push(...running);
      const started = performance.now();
      for (let n = 0; n < diagnoses; n++) {
        const r = repos[n % REPOS]!;
        await intake.enqueue(repositoryId(fx.repos[r]!.url, 'main'), fx.diagnosis(r, n));
      }
      const total = (): number => repos.reduce((sum, r) => sum + fx.ledgerCount(r), 0);
      if (restartBus) {
        await until(() => total() >= diagnoses / 2, 'half the diagnoses landed', 900_000, 500);
        await nats.stop(true);
        await nats.start();
      }
      await until(() => total() >= diagnoses, `${diagnoses} diagnoses landed`, 1_800_000, 500);
      const seconds = (performance.now() - started) / 1000;
      await stopWorkers(running);
      const entries = repos.flatMap((r) => fx.ledger(r));
      const keys = new Set(entries.map((e) => e.idempotencyKey));
      const incidents = new Set(entries.map((e) => e.incident));
      const expected = Array.from({ length: diagnoses }, (_, n) => fx.diagnosis(repos[n % REPOS]!, n).incident);
      return { perSec: diagnoses / seconds, landed: keys.size, duplicates: entries.length - keys.size, lost: expected.filter((i) => !incidents.has(i)).length, seconds };
    };
    const one = await phase(0, 1, false);
    const many = await phase(REPOS, workers, true);
    return {
      scale: {
        workers,
        repos: REPOS,
        // each phase lands `perPhase` diagnoses; the totals below cover both phases
        perPhase: diagnoses,
        diagnoses: 2 * diagnoses,
        landed: one.landed + many.landed,
        duplicates: one.duplicates + many.duplicates,
        lost: one.lost + many.lost,
        perSecOne: one.perSec,
        perSecMany: many.perSec,
        speedup: many.perSec / one.perSec,
        secondsOne: one.seconds,
        secondsMany: many.seconds,
        busRestartedDuringMany: true,
      },
    };
  } finally {
    await stopWorkers(children);
    await intake.close();
    await fx.cleanup();
    await nats.dispose();
  }
}
