// `arbiter scenarios run [DIR|FILE...] [--reporter pretty|json|junit] [--concurrency N]` (DESIGN §9).
import { InputError } from '../../engine/errors.ts';
import { jsonReport, junitReport, prettyLine, prettySummary, REPORTERS, summarize, type ReporterName } from '../../scenarios/runner/reporters.ts';
import { collectScenarioFiles, runScenarios } from '../../scenarios/runner/run.ts';
import { SCENARIO_FORGES, type ScenarioForgeId } from '../../scenarios/runner/actuate.ts';
import { parseCommandLine, UsageError } from './args.ts';

const USAGE = `usage: arbiter scenarios run [DIR|FILE...] [--reporter pretty|json|junit] [--concurrency N]
                           [--forge github|gitlab]

  DIR|FILE...        scenario files or directories of *.yaml (default: scenarios)
  --reporter NAME    pretty | json | junit (default pretty)
  --concurrency N    scenarios run at once, 1 to 16 (default 2)
  --forge ID         the loopback forge stand-in pull requests go to: github | gitlab (default github)
`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (sub !== 'run') throw new UsageError(`unknown subcommand "${sub ?? ''}"`);
  const args = parseCommandLine(rest, USAGE, { reporter: { type: 'string', default: 'pretty' }, concurrency: { type: 'string', default: '2' }, forge: { type: 'string', default: 'github' } }, true);
  if (!args) return 0;
  const { values, positionals } = args;
  if (!REPORTERS.includes(values.reporter as ReporterName)) throw new InputError(`must be one of ${REPORTERS.join(', ')}`, '--reporter');
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) throw new InputError('must be an integer from 1 to 16', '--concurrency');
  if (!SCENARIO_FORGES.includes(values.forge as ScenarioForgeId)) throw new InputError(`must be one of ${SCENARIO_FORGES.join(', ')}`, '--forge');
  const reporter = values.reporter as ReporterName;
  const files = await collectScenarioFiles(positionals.length > 0 ? positionals : ['scenarios']);
  const started = Date.now();
  const results = await runScenarios(files, {
    concurrency,
    forge: values.forge as ScenarioForgeId,
    onResult: reporter === 'pretty' ? (r) => process.stdout.write(prettyLine(r)) : undefined,
  });
  const summary = summarize(results, Date.now() - started);
  if (reporter === 'pretty') process.stdout.write(prettySummary(summary));
  else if (reporter === 'json') process.stdout.write(jsonReport(results, summary));
  else process.stdout.write(junitReport(results, summary));
  return summary.failed > 0 ? 1 : 0;
}
