// `arbiter replay DIR [--bundle DIR] [--json] [--gates auto=0.9,notify=0.7]`: past incidents through a bundle in
// shadow mode, compared with what humans did.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { loadBundle } from '../../engine/bundle.ts';
import { formatReplay, loadReplaySet, parseGates, replay } from '../../scenarios/runner/replay.ts';

const DEFAULT_BUNDLE = join(dirname(fileURLToPath(import.meta.url)), '../../policies/remediation');

export async function run(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('arbiter replay')
    .argument('<dir>', 'directory of past diagnoses with ground truth (*.yaml)')
    .option('--bundle <dir>', 'policy bundle (default: replay.yaml `bundle`, else policies/remediation)')
    .option('--gates <gates>', 'confidence gates to report at, e.g. auto=0.9,notify=0.7')
    .option('--json', 'one JSON document on stdout')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .action(async (dir: string, opts: { bundle?: string; gates?: string; json?: boolean }) => {
      const gates = opts.gates ? parseGates(opts.gates) : undefined;
      const set = loadReplaySet(dir);
      const bundle = await loadBundle(opts.bundle ?? set.bundleDir ?? DEFAULT_BUNDLE);
      const report = replay(set, bundle, gates);
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatReplay(report, dir));
      exitCode = 0;
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' && err.code.startsWith('commander.')) {
      return err.code === 'commander.helpDisplayed' ? 0 : 2;
    }
    throw err;
  }
  return exitCode;
}
