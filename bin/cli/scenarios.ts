// `arbiter scenarios run [DIR|FILE...] [--reporter pretty|json|junit] [--concurrency N]` (DESIGN §9).
import { Command, InvalidArgumentError } from 'commander';
import { InputError } from '../../engine/errors.ts';
import { jsonReport, junitReport, prettyLine, prettySummary, REPORTERS, summarize, type ReporterName } from '../../scenarios/runner/reporters.ts';
import { collectScenarioFiles, runScenarios } from '../../scenarios/runner/run.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new InvalidArgumentError('must be an integer from 1 to 16');
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'run') {
    const help = 'usage: arbiter scenarios run [DIR|FILE...] [--reporter pretty|json|junit] [--concurrency N]\n';
    if (sub === '--help' || sub === '-h') {
      process.stdout.write(help);
      return 0;
    }
    throw new InputError(`unknown subcommand "${sub ?? ''}" (${help.trim()})`);
  }
  let exitCode = 0;
  const program = new Command('arbiter scenarios run')
    .argument('[paths...]', 'scenario files or directories of *.yaml', ['scenarios'])
    .option('--reporter <name>', 'pretty | json | junit', 'pretty')
    .option('--concurrency <n>', 'scenarios run at once', positiveInt, 2)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .action(async (paths: string[], opts: { reporter: string; concurrency: number }) => {
      if (!REPORTERS.includes(opts.reporter as ReporterName)) throw new InputError(`must be one of ${REPORTERS.join(', ')}`, '--reporter');
      const reporter = opts.reporter as ReporterName;
      const files = await collectScenarioFiles(paths);
      const started = Date.now();
      const results = await runScenarios(files, {
        concurrency: opts.concurrency,
        onResult: reporter === 'pretty' ? (r) => process.stdout.write(prettyLine(r)) : undefined,
      });
      const summary = summarize(results, Date.now() - started);
      if (reporter === 'pretty') process.stdout.write(prettySummary(summary));
      else if (reporter === 'json') process.stdout.write(jsonReport(results, summary));
      else process.stdout.write(junitReport(results, summary));
      exitCode = summary.failed > 0 ? 1 : 0;
    });
  try {
    await program.parseAsync(rest, { from: 'user' });
  } catch (err) {
    if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' && err.code.startsWith('commander.')) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    throw err;
  }
  return exitCode;
}
