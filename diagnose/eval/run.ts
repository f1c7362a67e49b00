// `npm run eval:diagnose`: the evaluation set against the real Messages API (ANTHROPIC_API_KEY), with the recorded tool
// results; prints cause accuracy, the shipped bundle's decisions and the tokens used. Without a key it says so and exits 0.
import { createModelClient, DEFAULT_MODEL } from '../model.ts';
import { evaluateIncident, loadIncidents, report } from './incidents.ts';

if (!process.env.ANTHROPIC_API_KEY) {
  process.stdout.write('eval:diagnose: skipped: ANTHROPIC_API_KEY is not set (the scripted run of the same incidents is test/diagnose/eval.test.ts)\n');
  process.exit(0);
}
const model = process.env.ARBITER_MODEL || DEFAULT_MODEL;
const triageModel = process.env.ARBITER_TRIAGE_MODEL || undefined;
const client = createModelClient({ maxRetries: 3 });
const incidents = loadIncidents();
process.stdout.write(`eval:diagnose: ${incidents.length} incidents, model ${model}${triageModel ? `, triage ${triageModel}` : ''}\n\n`);
const results = [];
for (const incident of incidents) results.push(await evaluateIncident(incident, { client, model, ...(triageModel ? { triageModel } : {}) }));
process.stdout.write(report(results));
const matches = results.filter((r) => r.decision && r.decision.action === r.expectedAction && r.decision.mode === r.expectedMode).length;
process.stdout.write(`decisions matching the recorded mode and action: ${matches}/${results.length}\n`);
