// The diagnosis tier (issue 13): an LLM investigator on the Anthropic Messages API whose output arbiter never trusts.
// It only ever proposes a Diagnosis; policies, guardrails and Git decide what happens. Edges (the CLI, the server)
// call `diagnose` / `diagnoseAlert`; nothing in the decision core imports this folder.
import { diagnosisFromAlertmanager, type NothingFiring } from '../engine/alertmanager.ts';
import { InputError } from '../engine/errors.ts';
import type { Diagnosis } from '../engine/types.ts';
import { ModelUnavailableError } from './errors.ts';
import { investigate, type Budget, type InvestigationResult } from './investigate.ts';
import { createModelClient, DEFAULT_MODEL, type ModelClient, type ModelClientOptions } from './model.ts';
import { seedFromAlert, type Seed } from './seed.ts';
import { catalogTool } from './tools/catalog.ts';
import { recentChangesTool } from './tools/changes.ts';
import { ledgerHistoryTool } from './tools/ledger.ts';
import { prometheusTools, type PrometheusBackend } from './tools/prometheus.ts';
import { openSnapshot } from './tools/repository.ts';
import { runbookTool } from './tools/runbooks.ts';
import type { InvestigationTool, ToolLimits } from './tools/tool.ts';

export { InvestigationBudgetError, ModelRequestError, ModelUnavailableError, SubmissionRefusedError } from './errors.ts';
export { createModelClient, DEFAULT_MODEL, DEFAULT_TRIAGE_MODEL, type ModelClient, type ModelClientOptions } from './model.ts';
export { seedFromAlert, seedFromPartialDiagnosis, type Seed } from './seed.ts';
export { DEFAULT_BUDGET, investigate, type Budget, type InvestigationResult } from './investigate.ts';
export type { InvestigationTool } from './tools/tool.ts';

export interface DiagnoseOptions {
  /** Root-cause model (default DEFAULT_MODEL, or ARBITER_MODEL). */
  model?: string;
  /** Optional small model that triages first. */
  triageModel?: string;
  /** A ready client, or the options to create one (key and base URL default to the environment). */
  client?: ModelClient;
  clientOptions?: ModelClientOptions;
  /** Backends; a tool whose backend is not configured is not offered. */
  prometheus?: PrometheusBackend;
  repo?: { location: string; branch?: string; cacheDir?: string; runbooks?: string };
  /** Tools offered in addition (the evaluation set replays recorded ones). */
  tools?: InvestigationTool[];
  budget?: Partial<Budget>;
  /** Overrides every tool's bounds (time, result size, calls). */
  toolLimits?: Partial<ToolLimits>;
  /** The time the investigation looks back from (ledger, recent changes); default the wall clock. */
  now?: () => Date;
  log?: (line: string) => void;
}

export function modelName(options: Pick<DiagnoseOptions, 'model'>, env: NodeJS.ProcessEnv = process.env): string {
  return options.model ?? (env.ARBITER_MODEL || DEFAULT_MODEL);
}

/** Runs one investigation from `seed` with the configured backends' tools. */
export async function diagnose(seed: Seed, options: DiagnoseOptions = {}): Promise<InvestigationResult> {
  const client = options.client ?? createModelClient(options.clientOptions);
  const now = options.now ?? (() => new Date());
  const tools: InvestigationTool[] = [...(options.prometheus ? prometheusTools(options.prometheus) : [])];
  const snapshot = options.repo ? await openSnapshot(options.repo.location, { ...(options.repo.branch ? { branch: options.repo.branch } : {}), ...(options.repo.cacheDir ? { cacheDir: options.repo.cacheDir } : {}) }) : undefined;
  try {
    if (snapshot) {
      const service = seed.target.service;
      tools.push(recentChangesTool(snapshot, service, now), ledgerHistoryTool(snapshot, service, now), catalogTool(snapshot, service, now));
      const runbooks = await runbookTool(snapshot, options.repo?.runbooks);
      if (runbooks) tools.push(runbooks);
    }
    tools.push(...(options.tools ?? []));
    return await investigate(seed, {
      client,
      model: modelName(options),
      ...(options.triageModel ? { triageModel: options.triageModel } : {}),
      tools: options.toolLimits ? tools.map((t) => ({ ...t, limits: { ...t.limits, ...options.toolLimits } })) : tools,
      ...(options.budget ? { budget: options.budget } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
  } finally {
    snapshot?.close();
  }
}

/**
 * An Alertmanager webhook → a Diagnosis from the diagnosis tier; when the tier fails (model unavailable, budget spent,
 * submission refused), the heuristic mapping of engine/alertmanager.ts, as without the tier. The payload's own errors
 * (no service label, …) are InputErrors either way.
 */
export async function diagnoseAlert(payload: unknown, options: DiagnoseOptions & { source?: string } = {}): Promise<Diagnosis | NothingFiring> {
  const source = options.source ?? 'alertmanager';
  const seed = seedFromAlert(payload, source);
  if ('ignored' in seed) return seed;
  let reason: Error;
  try {
    return (await diagnose(seed, options)).diagnosis;
  } catch (err) {
    reason = err instanceof Error ? err : new Error(String(err));
  }
  options.log?.(`diagnosis tier failed (${reason.message}); falling back to the heuristic Alertmanager mapping`);
  try {
    return diagnosisFromAlertmanager(payload, source);
  } catch (err) {
    if (reason instanceof ModelUnavailableError && err instanceof InputError) throw new ModelUnavailableError(`${reason.message}; the heuristic mapping cannot map this alert either (${err.message})`);
    throw err;
  }
}
