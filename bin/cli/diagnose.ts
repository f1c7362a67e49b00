// `arbiter diagnose`: an Alertmanager webhook or a partial Diagnosis in, a complete Diagnosis (source: llm) out, from the
// diagnosis tier (diagnose/). The model proposes; `arbiter decide`/`act` and the policies decide.
import { canonicalJson } from '../../engine/canonical.ts';
import { InputError } from '../../engine/errors.ts';
import { parseDocument } from '../../engine/ingest.ts';
import type { Diagnosis } from '../../engine/types.ts';
import { DEFAULT_MODEL, diagnose, modelName, seedFromAlert, seedFromPartialDiagnosis } from '../../diagnose/index.ts';
import { parseCommandLine, UsageError } from './args.ts';
import { readInputFile } from '../../app/context.ts';

const USAGE = `usage: arbiter diagnose (--alert FILE | --diagnosis FILE) [--prometheus URL] [--repo PATH|URL] [--branch NAME]
                        [--runbooks DIR] [--model M] [--triage-model M] [--max-turns N] [--json]

  --alert FILE         an Alertmanager webhook payload (version 4); - reads stdin
  --diagnosis FILE     a partial Diagnosis (target required; signals, hypotheses as hints); - reads stdin
  --prometheus URL     offer PromQL instant and range queries against this Prometheus
  --repo PATH|URL      offer the GitOps repository: recent changes, arbiter's ledger, catalog and calendar, runbooks
  --branch NAME        the GitOps branch (default main)
  --runbooks DIR       runbook directory in the repository (default runbooks)
  --model M            root-cause model (default $ARBITER_MODEL, else ${DEFAULT_MODEL})
  --triage-model M     a small model that triages first (e.g. claude-haiku-5-5); off by default
  --max-turns N        model turns before giving up (default 12; the last one must submit)
  --json               print the Diagnosis as one JSON document

The key and endpoint come from ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL. Exit codes: 0 a diagnosis was printed,
1 the model did not submit within its budget, 2 bad input or a refused submission, 75 the API is unavailable
(overloaded, rate limited, unreachable): try again later.
`;

function readInput(file: string): string {
  return readInputFile(file);
}

function summary(d: Diagnosis): string {
  const lines = [`diagnosis ${d.id} for ${d.target.namespace ? `${d.target.namespace}/` : ''}${d.target.service} (incident ${d.incident}, source ${d.source})`];
  for (const h of d.hypotheses) {
    lines.push(`  ${h.confidence.toFixed(2)}  ${h.cause}${h.suggestedActions?.length ? `  → ${h.suggestedActions.map((a) => a.kind).join(', ')}` : ''}`);
    for (const e of h.evidence ?? []) lines.push(`        - ${e}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, USAGE, {
    alert: { type: 'string' },
    diagnosis: { type: 'string' },
    prometheus: { type: 'string' },
    repo: { type: 'string' },
    branch: { type: 'string' },
    runbooks: { type: 'string' },
    model: { type: 'string' },
    'triage-model': { type: 'string' },
    'max-turns': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (!args) return 0;
  const { values } = args;
  if (!values.alert === !values.diagnosis) throw new UsageError(`give exactly one of --alert FILE or --diagnosis FILE`);
  if (values.prometheus !== undefined && !/^https?:\/\/\S+$/.test(values.prometheus)) throw new InputError('must be an http(s) URL', '--prometheus');
  const maxTurns = values['max-turns'] === undefined ? undefined : Number(values['max-turns']);
  if (maxTurns !== undefined && !(Number.isInteger(maxTurns) && maxTurns >= 1 && maxTurns <= 50)) throw new InputError('must be a whole number from 1 to 50', '--max-turns');
  for (const flag of ['model', 'triage-model'] as const) {
    const m = values[flag];
    if (m !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/.test(m)) throw new InputError('must be a model name such as claude-opus-5-5', `--${flag}`);
  }
  const file = (values.alert ?? values.diagnosis)!;
  const where = file === '-' ? 'stdin' : file;
  const document = parseDocument(readInput(file), where);
  const seed = values.alert ? seedFromAlert(document, where) : seedFromPartialDiagnosis(document, where, new Date());
  if ('ignored' in seed) {
    process.stderr.write(`arbiter diagnose: ${seed.ignored}\n`);
    if (values.json) process.stdout.write(`${canonicalJson({ diagnosis: null, ignored: seed.ignored })}\n`);
    return 0;
  }
  const log = (line: string): void => void process.stderr.write(`arbiter diagnose: ${line}\n`);
  const { diagnosis, investigation } = await diagnose(seed, {
    model: modelName({ ...(values.model ? { model: values.model } : {}) }),
    ...(values['triage-model'] ? { triageModel: values['triage-model'] } : {}),
    ...(values.prometheus ? { prometheus: { url: values.prometheus, ...(process.env.ARBITER_PROMETHEUS_TOKEN ? { token: process.env.ARBITER_PROMETHEUS_TOKEN } : {}) } } : {}),
    ...(values.repo ? { repo: { location: values.repo, ...(values.branch ? { branch: values.branch } : {}), ...(values.runbooks ? { runbooks: values.runbooks } : {}) } } : {}),
    ...(maxTurns ? { budget: { maxTurns } } : {}),
    log,
  });
  const tools = investigation.tools.map((t) => `${t.name}×${t.calls}${t.failed ? ` (${t.failed} failed)` : ''}`).join(', ') || 'none';
  log(`${investigation.model}${investigation.triageModel ? ` (triage ${investigation.triageModel})` : ''}: ${investigation.turns} turns, tools ${tools}; tokens in ${investigation.usage.inputTokens}, out ${investigation.usage.outputTokens}`);
  process.stdout.write(values.json ? `${canonicalJson(diagnosis)}\n` : summary(diagnosis));
  return 0;
}
