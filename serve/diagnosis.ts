// `diagnosis: { tier: llm }` in serve.yaml: Alertmanager alerts go through the diagnosis tier (diagnose/) before deciding,
// with the heuristic mapping as the fallback. The one seam with the server is `ServerDeps.alertDiagnosis`.
import type { IncomingHttpHeaders } from 'node:http';
import type { NothingFiring } from '../engine/alertmanager.ts';
import type { Diagnosis } from '../engine/types.ts';
import { createModelClient, diagnoseAlert } from '../diagnose/index.ts';
import { parseDuration } from '../app/verify.ts';
import type { ServeConfig } from './config.ts';
import { alertmanagerPayload, BODY } from './intake.ts';

export type AlertDiagnosis = (text: string, headers: IncomingHttpHeaders) => Promise<Diagnosis | NothingFiring>;

/** The intake of /v1/alertmanager with the LLM tier, or undefined for the heuristic tier. */
export function alertDiagnosisFrom(config: ServeConfig, log: (line: string) => void): AlertDiagnosis | undefined {
  const tier = config.diagnosis;
  if (tier.tier !== 'llm') return undefined;
  const client = createModelClient({ ...(tier.apiKey ? { apiKey: tier.apiKey } : {}), ...(tier.baseUrl ? { baseURL: tier.baseUrl } : {}), maxRetries: tier.maxRetries });
  return async (text, headers) => {
    // media type and JSON are checked as the heuristic intake does; the payload's shape by the tier (alertGroupOf)
    return diagnoseAlert(alertmanagerPayload(text, headers), {
      source: BODY,
      client,
      ...(tier.model ? { model: tier.model } : {}),
      ...(tier.triageModel ? { triageModel: tier.triageModel } : {}),
      ...(config.prometheus ? { prometheus: config.prometheus } : {}),
      repo: { location: config.repo, branch: config.branch, ...(config.cacheDir ? { cacheDir: config.cacheDir } : {}), ...(tier.runbooks ? { runbooks: tier.runbooks } : {}) },
      budget: { timeMs: parseDuration(tier.timeout)!, ...(tier.maxTurns ? { maxTurns: tier.maxTurns } : {}) },
      log: (line) => log(`diagnosis: ${line}`),
    });
  };
}
