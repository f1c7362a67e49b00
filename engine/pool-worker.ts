// One decision worker of engine/pool.ts: loads the bundle once, then decides each diagnosis it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { loadBundle } from './bundle.ts';
import { decide, type DecideArgs } from './decide.ts';
import type { PoolDecideInput, WorkerReply } from './pool.ts';

const port = parentPort!;
const reply = (m: WorkerReply): void => port.postMessage(m);

try {
  const bundle = await loadBundle((workerData as { bundleDir: string }).bundleDir);
  port.on('message', ({ id, input }: { id: number; input: PoolDecideInput }) => {
    try {
      const args: DecideArgs = { diagnosis: input.diagnosis, context: input.context, bundle };
      if (input.service) args.service = input.service;
      reply({ type: 'decision', id, decision: decide(args) });
    } catch (err) {
      const e = err as Error & { code?: string };
      reply({ type: 'error', id, name: e.name ?? 'Error', ...(typeof e.code === 'string' ? { code: e.code } : {}), message: e.message ?? String(err) });
    }
  });
  reply({ type: 'ready' });
} catch (err) {
  reply({ type: 'load-error', message: (err as Error).message });
}
