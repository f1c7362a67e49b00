// `arbiter worker --config FILE [--config FILE …]`: takes diagnoses from the work bus the intake (`arbiter serve` with
// `queue: {kind: nats}`) stores them on, and carries each out on the config's repository. Several configs: one worker
// serving several repositories. SIGTERM/SIGINT drain: stop fetching, finish the decisions in flight, exit 0.
import { parseArgs } from 'node:util';
import { InputError } from '../../engine/errors.ts';
import { parseDuration } from '../../app/verify.ts';
import { WorkBus } from '../../serve/bus.ts';
import { loadServeConfig, type ServeConfig } from '../../serve/config.ts';
import { serverDeps, type ServerDeps } from '../../serve/deps.ts';
import { startWorker, workerTarget } from '../../serve/worker.ts';

const USAGE = `usage: arbiter worker --config FILE [--config FILE …]

  --config FILE   a serve configuration with queue: {kind: nats, url, ackWait, dedupeWindow, concurrency}; the
                  repository, branch, bundle and signing key of each file are what its diagnoses are carried out with.
                  Every file must name the same bus URL.
`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { config: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h', default: false } } }));
  } catch (err) {
    throw new InputError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.config?.length) throw new InputError(`--config is required\n${USAGE}`);
  const configs: ServeConfig[] = values.config.map((file) => loadServeConfig(file));
  const queues = configs.map((c) => (c.queue.kind === 'nats' ? c.queue : undefined));
  queues.forEach((q, i) => {
    if (!q) throw new InputError('a worker needs a bus: set queue: {kind: nats, url: nats://…}', `${configs[i]!.source}: queue.kind`);
    if (q.url !== queues[0]!.url) throw new InputError(`every config must name the same bus (${queues[0]!.url})`, `${configs[i]!.source}: queue.url`);
  });
  const queue = queues[0]!;
  const log = (line: string): void => void process.stderr.write(`arbiter worker: ${line}\n`);
  const bus = await WorkBus.connect({ url: queue.url, ackWaitMs: parseDuration(queue.ackWait)!, dedupeWindowMs: parseDuration(queue.dedupeWindow)!, name: `arbiter-worker-${process.pid}` });
  // configs naming the same bundle share one decision core and pool (one worker thread, not one per repository)
  const deps: ServerDeps[] = [];
  for (const c of configs) {
    const same = deps.find((d, i) => configs[i]!.bundle === c.bundle);
    deps.push(await serverDeps(c, { log, ...(same ? { core: same.core!, bundle: same.bundle, ...(same.decisionPool ? { decisionPool: same.decisionPool } : {}) } : {}) }));
  }
  const targets = await Promise.all(configs.map((c, i) => workerTarget(c, deps[i]!, log)));
  const worker = startWorker({ bus, targets, concurrency: queue.concurrency, log });
  process.stdout.write(`${JSON.stringify({ worker: process.pid, repositories: targets.map((t) => t.repository) })}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log(`${signal}: draining (no new work; finishing ${worker.figures.inFlight} in flight)`);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve();
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  await worker.stop();
  await bus.close();
  await Promise.all([...new Set(deps.map((d) => d.decisionPool))].map((p) => p?.close()));
  log(`stopped: ${JSON.stringify(worker.figures)}`);
  return 0;
}
