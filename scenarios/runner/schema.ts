// The scenario format (DESIGN §9) as a zod schema, plus the extensions the library needs (documented in the README):
// `diagnosis` may name a file, `repeat` replays one request, `concurrent` runs decisions at once, `expect.decision`
// matches any Decision field, `expect.pullRequest` checks the pull request, `history[].branch`/`at` place commits.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../../engine/errors.ts';
import { ActionKind, Diagnosis, Modes, Rfc3339 } from '../../engine/types.ts';

/** Repository path → content; `null` deletes the file. */
const FileMap = z.record(z.string().min(1), z.string().nullable());

const HistoryCommit = z
  .object({
    message: z.string().min(1),
    files: FileMap.default({}),
    /** Extension: the branch the commit goes to (default: the target branch). */
    branch: z.string().min(1).optional(),
    /** Extension: commit time (default: spaced one hour apart, ending an hour before `now`). */
    at: Rfc3339.optional(),
  })
  .strict();

const ActionExpect = z
  .object({
    kind: ActionKind.optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    target: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const ModeExpect = z.enum([...Modes, 'shadow']);

const GitExpect = z
  .object({
    branch: z.string().min(1).optional(),
    changed: z.array(z.string().min(1)).optional(),
    contains: z.record(z.string().min(1), z.union([z.string(), z.array(z.string())])).optional(),
    /** Extension: substrings that must not appear in those files after the action. */
    notContains: z.record(z.string().min(1), z.union([z.string(), z.array(z.string())])).optional(),
    trailers: z.record(z.string().min(1), z.string()).optional(),
    signed: z.boolean().optional(),
  })
  .strict();

const PullRequestExpect = z
  .object({
    reviewers: z.array(z.string()).optional(),
    labels: z.array(z.string()).optional(),
    title: z.string().optional(),
    body: z.union([z.string(), z.array(z.string())]).optional(),
    base: z.string().optional(),
  })
  .strict();

/** What one decision must look like (mode, action, any Decision field). */
const DecisionExpect = z
  .object({
    mode: ModeExpect.optional(),
    action: ActionExpect.nullable().optional(),
    decision: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const Expect = DecisionExpect.extend({
  /** Extension: a list checks several branches (e.g. `main` untouched and the pull-request branch). */
  git: z.union([GitExpect, z.array(GitExpect)]).optional(),
  /** `null`: no pull request may be opened. */
  pullRequest: PullRequestExpect.nullable().optional(),
  /** The ledger entry for every decision exists on `arbiter/ledger` (default true). */
  ledger: z.boolean().optional(),
}).strict();

const ContextOverride = z.record(z.string(), z.unknown());

/** A diagnosis inline, or the path of a diagnosis file relative to the scenario. */
const DiagnosisRef = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);

const ConcurrentRun = z
  .object({ diagnosis: DiagnosisRef, context: ContextOverride.optional(), expect: DecisionExpect.optional() })
  .strict();

export const ScenarioSchema = z
  .object({
    name: z.string().min(1).max(200),
    description: z.string().optional(),
    bundle: z.string().min(1),
    repo: z.string().min(1),
    branch: z.string().min(1).default('main'),
    history: z.array(HistoryCommit).default([]),
    diagnosis: DiagnosisRef.optional(),
    context: ContextOverride.optional(),
    repeat: z.number().int().min(1).max(5).default(1),
    concurrent: z.array(ConcurrentRun).min(2).max(4).optional(),
    /** Extension: requests decided one after another (each sees the ledger the earlier ones wrote). */
    steps: z.array(ConcurrentRun).min(1).max(10).optional(),
    expect: Expect.default({}),
  })
  .strict()
  .superRefine((s, ctx) => {
    const given = (['diagnosis', 'concurrent', 'steps'] as const).filter((k) => s[k] !== undefined);
    if (given.length === 0) ctx.addIssue({ code: 'custom', path: ['diagnosis'], message: 'required (or give `concurrent` or `steps`)' });
    if (given.length > 1) ctx.addIssue({ code: 'custom', path: [given[1]!], message: `give only one of \`diagnosis\`, \`concurrent\`, \`steps\` (found ${given.join(', ')})` });
    if (!s.diagnosis && s.repeat > 1) ctx.addIssue({ code: 'custom', path: ['repeat'], message: 'repeats the top-level `diagnosis`; not with `concurrent` or `steps`' });
  });

export type ScenarioSpec = z.infer<typeof ScenarioSchema>;
export type ExpectSpec = z.infer<typeof Expect>;
export type GitExpectSpec = z.infer<typeof GitExpect>;
export type DecisionExpectSpec = z.infer<typeof DecisionExpect>;

/** One `act` the runner performs: a diagnosis (already read), its context override and what it must decide. */
export interface ScenarioRun {
  diagnosis: Diagnosis;
  /** The diagnosis as text, exactly as `act` would read it from a file. */
  diagnosisText: string;
  context?: Record<string, unknown>;
  expect: DecisionExpectSpec;
}

export interface Scenario {
  file: string;
  name: string;
  bundleDir: string;
  repoDir: string;
  branch: string;
  history: ScenarioSpec['history'];
  runs: ScenarioRun[];
  /** Runs are performed concurrently (`concurrent:`) or in order (`repeat:`, `steps:`). */
  parallel: boolean;
  /** The runs repeat one request (`repeat:`): after the first, no branch may move. */
  repeated: boolean;
  expect: ExpectSpec;
}

/** Deep merge of context overrides: objects merge key by key, everything else replaces. */
export function mergeOverride(base: Record<string, unknown> | undefined, over: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!base) return over;
  if (!over) return base;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const bothObjects = b && v && typeof b === 'object' && typeof v === 'object' && !Array.isArray(b) && !Array.isArray(v);
    out[k] = bothObjects ? mergeOverride(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** `hypotheses[0].confidence` from a zod path. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

function firstIssue(error: z.ZodError): { where: string; message: string } {
  const issue = error.issues[0]!;
  return { where: fieldPath(issue.path), message: issue.message };
}

function readDiagnosis(ref: string | Record<string, unknown>, scenarioFile: string, field: string): { diagnosis: Diagnosis; text: string } {
  let value: unknown = ref;
  let text: string;
  if (typeof ref === 'string') {
    const path = resolve(dirname(scenarioFile), ref);
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new InputError(`cannot read diagnosis file ${ref}`, `${scenarioFile}: ${field}`);
    }
    try {
      value = parseYaml(text, { maxAliasCount: 100 });
    } catch (err) {
      throw new InputError(`diagnosis file ${ref} is not YAML/JSON: ${(err as Error).message.split('\n')[0]}`, `${scenarioFile}: ${field}`);
    }
  } else {
    text = JSON.stringify(ref, null, 2);
  }
  const parsed = Diagnosis.safeParse(value);
  if (!parsed.success) {
    const { where, message } = firstIssue(parsed.error);
    throw new InputError(message, `${scenarioFile}: ${field}${where ? `.${where}` : ''}`);
  }
  return { diagnosis: parsed.data, text };
}

/** Reads and validates one scenario file; every error is an InputError naming the file and the field. */
export function loadScenario(file: string): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'), { maxAliasCount: 100 });
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    throw new InputError(`not a readable YAML scenario: ${message}`, file);
  }
  const parsed = ScenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const { where, message } = firstIssue(parsed.error);
    throw new InputError(message, `${file}: ${where || '(document)'}`);
  }
  const spec = parsed.data;
  const base = dirname(file);
  let runs: ScenarioRun[];
  const listed = spec.concurrent ?? spec.steps;
  if (listed) {
    const field = spec.concurrent ? 'concurrent' : 'steps';
    runs = listed.map((run, i) => {
      const { diagnosis, text } = readDiagnosis(run.diagnosis, file, `${field}[${i}].diagnosis`);
      const { mode, action, decision } = spec.expect;
      return { diagnosis, diagnosisText: text, context: mergeOverride(spec.context, run.context), expect: { mode, action, decision, ...run.expect } };
    });
  } else {
    const { diagnosis, text } = readDiagnosis(spec.diagnosis!, file, 'diagnosis');
    const { mode, action, decision } = spec.expect;
    runs = Array.from({ length: spec.repeat }, () => ({ diagnosis, diagnosisText: text, context: spec.context, expect: { mode, action, decision } }));
  }
  return {
    file,
    name: spec.name,
    bundleDir: resolve(base, spec.bundle),
    repoDir: resolve(base, spec.repo),
    branch: spec.branch,
    history: spec.history,
    runs,
    parallel: Boolean(spec.concurrent),
    repeated: spec.repeat > 1,
    expect: spec.expect,
  };
}
