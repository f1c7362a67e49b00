// `arbiter replay DIR [--bundle DIR] [--json] [--gates auto=0.9,notify=0.7]`: past incidents through a bundle in
// shadow mode, compared with what humans did.
import { DEFAULT_BUNDLE } from '../../app/bundle.ts';
import { loadBundle } from '../../engine/bundle.ts';
import { formatReplay, loadReplaySet, parseGates, replay } from '../../scenarios/runner/replay.ts';
import { parseCommandLine, UsageError } from './args.ts';


const USAGE = `usage: arbiter replay DIR [--bundle DIR] [--gates auto=0.9,notify=0.7] [--json]

  DIR              directory of past diagnoses with ground truth (*.yaml)
  --bundle DIR     policy bundle (default: replay.yaml \`bundle\`, else policies/remediation)
  --gates GATES    confidence gates to report at, e.g. auto=0.9,notify=0.7
  --json           one JSON document on stdout
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, USAGE, { bundle: { type: 'string' }, gates: { type: 'string' }, json: { type: 'boolean', default: false } }, true);
  if (!args) return 0;
  const { values, positionals } = args;
  if (positionals.length !== 1) throw new UsageError(`expected exactly one DIR, got ${positionals.length}`);
  const dir = positionals[0] as string;
  const gates = values.gates ? parseGates(values.gates) : undefined;
  const set = loadReplaySet(dir);
  const bundle = await loadBundle(values.bundle ?? set.bundleDir ?? DEFAULT_BUNDLE);
  const report = replay(set, bundle, gates);
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatReplay(report, dir));
  return 0;
}
