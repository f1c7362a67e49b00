// `arbiter decide`: a Diagnosis (and optionally a Context, a bundle, a GitOps working tree) in, a Decision out.
import { resolve } from 'node:path';
import { DEFAULT_BUNDLE } from '../../app/bundle.ts';
import { contextFromRepository, readInputFile, sourcesFromLocation, type RepositorySources } from '../../app/context.ts';
import { loadBundle, type Bundle } from '../../engine/bundle.ts';
import { canonicalJson } from '../../engine/canonical.ts';
import { assembleContext, parseCalendar, parseCatalog } from '../../engine/context.ts';
import { decide } from '../../engine/decide.ts';
import { InputError } from '../../engine/errors.ts';
import { renderDecision } from '../../engine/explain.ts';
import { parseContextOverride, parseDiagnosis, type ContextOverride } from '../../engine/ingest.ts';
import { Rfc3339, type CatalogService, type Context, type Decision, type Diagnosis } from '../../engine/types.ts';
import { parseCommandLine, UsageError } from './args.ts';

const USAGE = `usage: arbiter decide --diagnosis FILE [--context FILE] [--bundle DIR] [--repo DIR] [--now RFC3339] [--explain] [--json]

  --diagnosis FILE   the Diagnosis (JSON, YAML or a CloudEvent)
  --context FILE     explicit Context values; they win field by field
  --bundle DIR       policy bundle directory or .tar.gz (default: the shipped policies/remediation)
  --repo DIR         GitOps repository: a work tree's .arbiter/catalog.yaml, .arbiter/calendar.yaml, .arbiter/pause,
                     or a bare repository's, read from the tip of main exactly as act reads them
  --now RFC3339      decision time (default: the context file's now, else the diagnosis observedAt)
  --explain          add the verdict table, the winner and the guardrails
  --json             print the Decision as one JSON document
`;

export interface DecisionInputs {
  diagnosis: Diagnosis;
  context: Context;
  bundle: Bundle;
  service: CatalogService;
}

/**
 * Assembles everything `decide` needs from files. `now`: explicit, else the context file's, else the diagnosis
 * `observedAt` — never the wall clock.
 */
export async function loadDecisionInputs(args: { diagnosisFile: string; contextFile?: string; bundleDir?: string; repoDir?: string; now?: string; override?: ContextOverride }): Promise<DecisionInputs> {
  const diagnosis = parseDiagnosis(readInputFile(args.diagnosisFile), args.diagnosisFile);
  const fileOverride = args.contextFile ? parseContextOverride(readInputFile(args.contextFile), args.contextFile) : {};
  const override: ContextOverride = { ...fileOverride, ...args.override };
  if (args.now !== undefined && !Rfc3339.safeParse(args.now).success) throw new InputError('must be an RFC 3339 timestamp such as 2026-11-21T02:13:00Z', '--now');
  const now = args.now ?? override.now ?? diagnosis.observedAt;
  if (args.now !== undefined) override.now = args.now;
  const bundle = await loadBundle(args.bundleDir ?? DEFAULT_BUNDLE);
  const sources: RepositorySources = args.repoDir ? await sourcesFromLocation(resolve(args.repoDir), { parseCatalog, parseCalendar }) : { killSwitch: false };
  const { context, service } = contextFromRepository(assembleContext, { diagnosis, now, sources, bundleData: bundle.data, override });
  return { diagnosis, context, bundle, service };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, USAGE, {
    diagnosis: { type: 'string' },
    context: { type: 'string' },
    bundle: { type: 'string' },
    repo: { type: 'string' },
    now: { type: 'string' },
    explain: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (!args) return 0;
  const { values } = args;
  if (!values.diagnosis) throw new UsageError(`--diagnosis FILE is required`);
  const inputs = await loadDecisionInputs({
    diagnosisFile: values.diagnosis,
    ...(values.context ? { contextFile: values.context } : {}),
    ...(values.bundle ? { bundleDir: values.bundle } : {}),
    ...(values.repo ? { repoDir: values.repo } : {}),
    ...(values.now ? { now: values.now } : {}),
  });
  const decision: Decision = decide(inputs);
  if (values.json) process.stdout.write(`${canonicalJson(decision)}\n`);
  else process.stdout.write(renderDecision(decision, values.explain));
  return 0;
}
