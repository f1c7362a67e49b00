// `arbiter verify`: verification and compensation (DESIGN §7) for one decision carried out by `arbiter act`, exactly
// as `arbiter serve` runs it after acting. Settings come from the serve config file.
import { UsageError } from './args.ts';
import { parseArgs } from 'node:util';
import { getAction } from '../../actions/index.ts';
import { InputError } from '../../engine/errors.ts';
import { LEDGER_BRANCH, readLedgerEntries, type DecisionEntry } from '../../gitops/ledger.ts';
import { Repository } from '../../gitops/repo.ts';
import { loadServeConfig } from '../../serve/config.ts';
import { metricRules, notifierFrom, signerFrom, watcherFrom } from '../../serve/deps.ts';
import { PrometheusClient } from '../../gitops/verify/metrics.ts';
import { parseDuration, verifyActuation, type VerificationResult } from '../../app/verify.ts';

const USAGE = `usage: arbiter verify --config FILE --decision ID [--signal NUMBER] [--json]

  --config FILE     the serve config: repository, branch, signing key, Argo CD or Flux, Prometheus, metrics, timeouts
  --decision ID     an auto/notify decision in the ledger whose commit is on the target branch
  --signal NUMBER   the diagnosed value of the action's metric (for improvementPercent rules)
  --json            print the result as one JSON document

Exit codes: 0 recovered (or already verified, or not judgeable), 1 not recovered (compensated), 2 bad input.
`;

function summary(r: VerificationResult): string {
  const lines = [`verification of ${r.decision}: ${r.outcome}`];
  if (r.reconciliation) lines.push(`  reconciliation: ${r.reconciliation.detail}`);
  if (r.recovery) lines.push(`  metric: ${r.recovery.detail}`);
  if (r.compensation) lines.push(`  compensation: ${r.compensation.outcome}: ${r.compensation.detail}`);
  if (r.notification) lines.push(`  notification ${r.notification.type}: ${r.notification.delivered ? 'delivered' : `not delivered (${r.notification.error})`}`);
  return `${lines.join('\n')}\n`;
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { config: { type: 'string' }, decision: { type: 'string' }, signal: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.config || !values.decision) throw new UsageError(`--config and --decision are required`);
  const signal = values.signal === undefined ? undefined : Number(values.signal);
  if (signal !== undefined && !Number.isFinite(signal)) throw new InputError('must be a number', '--signal');
  const config = loadServeConfig(values.config, process.env, { intakeToken: false });
  if (!config.prometheus) throw new InputError('verification needs prometheus.url in the config', `${config.source}: prometheus`);
  const log = (line: string): void => void process.stderr.write(`arbiter verify: ${line}\n`);

  const repo = await Repository.open(config.repo, { cacheDir: config.cacheDir });
  let entry: DecisionEntry | undefined;
  try {
    await repo.sync([LEDGER_BRANCH]);
    entry = (await readLedgerEntries(repo.store, await repo.tip(LEDGER_BRANCH))).find((e): e is DecisionEntry => e.kind === 'Decision' && e.id === values.decision);
  } finally {
    repo.store.close();
  }
  if (!entry) throw new InputError(`no decision ${values.decision} in the ledger of ${config.repo}`, '--decision');
  if ((entry.mode !== 'auto' && entry.mode !== 'notify') || !entry.actuation.commit || entry.actuation.branch !== config.branch || !entry.action) {
    throw new InputError(`decision ${entry.id} (mode ${entry.mode}) did not commit to ${config.branch}: only auto and notify decisions are verified`, '--decision');
  }
  const signer = await signerFrom(config);
  const { actuation, ...decision } = entry;
  const result = await verifyActuation({
    repo: config.repo,
    branch: config.branch,
    cacheDir: config.cacheDir,
    signer,
    decision,
    commit: actuation.commit!,
    spec: getAction(entry.action.kind).verification,
    signal,
    watcher: watcherFrom(config),
    prometheus: new PrometheusClient({ url: config.prometheus.url, token: config.prometheus.token }),
    metrics: metricRules(config),
    reconcileTimeoutMs: parseDuration(config.verification.reconcileTimeout)!,
    pollMs: parseDuration(config.verification.pollInterval)!,
    ...(config.verification.window ? { windowMs: parseDuration(config.verification.window)! } : {}),
    consecutive: config.verification.consecutive,
    notifier: notifierFrom(config, log),
    log,
  });
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : summary(result));
  return result.outcome === 'failed' ? 1 : 0;
}
