// cli: what a user waits for per command, in separate processes (bin/arbiter on the compiled bundle, as `npm ci`
// builds it): `arbiter --help`, `arbiter decide` on one example, and `node -e 0` as the floor, interleaved so the
// shared machine's load falls on all three alike; medians of ROUNDS runs each.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROUNDS = 15;
const EXAMPLE = 'policies/remediation/examples/memory-leak-off-hours.yaml';

function timeProcess(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ARBITER_DEBUG: '' } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round1 = (x: number) => Number(x.toFixed(1));

export async function bench(): Promise<Record<string, unknown>> {
  // the bundle bin/arbiter runs; without a fresh build it would fall back to tsx and time that instead
  const build = spawnSync(process.execPath, ['build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed: ${build.stderr}`);
  const node: number[] = [];
  const help: number[] = [];
  const decide: number[] = [];
  for (let i = 0; i < ROUNDS + 1; i++) {
    const n = timeProcess(['-e', '0']);
    const h = timeProcess(['bin/arbiter', '--help']);
    const d = timeProcess(['bin/arbiter', 'decide', '--diagnosis', EXAMPLE, '--json']);
    // the first round warms the file cache
    if (i === 0) continue;
    node.push(n);
    help.push(h);
    decide.push(d);
  }
  const nodeMs = median(node);
  return { cli: { nodeMs: round1(nodeMs), helpMs: round1(median(help)), decideMs: round1(median(decide)), helpPerNode: round1(median(help) / nodeMs), decidePerNode: round1(median(decide) / nodeMs), runs: ROUNDS } };
}
