// Throughput of the Rego interpreter on the shipped bundle's Rego edition (a script, not a test):
//   node --import tsx test/rego/perf-harness.ts [rounds]        (add --cpu-prof to profile)
// Each round evaluates `data.arbiter.policies` once per example diagnosis for the propose phase and once per
// suggested action for the judge phase, as the decision engine does; it prints evaluations/s and decisions/s.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { compileModules, evalRef } from '../../engine/rego/index.ts';
import { RObject, fromJSON, stringifyJSON } from '../../engine/rego/value.ts';
import type { Value } from '../../engine/rego/value.ts';

const BUNDLE = fileURLToPath(new URL('../../policies/remediation-rego', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../policies/remediation/examples', import.meta.url));

const modules = readdirSync(BUNDLE)
  .filter((f) => f.endsWith('.rego') && !f.endsWith('_test.rego'))
  .map((f) => ({ file: f, source: readFileSync(join(BUNDLE, f), 'utf8') }));
const compiled = compileModules(modules);
const data = fromJSON(JSON.parse(readFileSync(join(BUNDLE, 'data.json'), 'utf8')));

const context = {
  now: '2026-11-24T10:30:00Z',
  service: { name: 'checkout', namespace: 'shop', criticality: 'high', owners: ['team-checkout'] },
  calendar: { businessHours: true, maintenanceWindow: false, changeFreeze: false, peakEvent: null },
  history: { incidentActions: 0, serviceActionsLastHour: 0, circuitOpen: false },
  killSwitch: false,
};

interface Decision {
  propose: Value;
  judges: Value[];
}

// one decision per example: the propose input, and a judge input per suggested action
const decisions: Decision[] = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => {
    const diagnosis = parse(readFileSync(join(EXAMPLES, f), 'utf8')) as { hypotheses?: Array<{ suggestedActions?: unknown[] }> };
    const actions = (diagnosis.hypotheses ?? []).flatMap((h) => h.suggestedActions ?? []);
    const base = { diagnosis, context };
    const judges = (actions.length ? actions : [{ kind: 'restart', params: {} }]).slice(0, 3).map((a) => fromJSON({ ...base, action: { target: {}, ...(a as object) } }));
    return { propose: fromJSON(base), judges };
  });

const evalsPerRound = decisions.reduce((n, d) => n + 1 + d.judges.length, 0);
const oneRound = (): number => {
  let members = 0;
  for (const d of decisions) {
    for (const input of [d.propose, ...d.judges]) {
      const v = evalRef(compiled, 'data.arbiter.policies', { input, data });
      if (v instanceof RObject) members += v.size;
    }
  }
  return members;
};

const rounds = Number(process.argv[2] ?? 5000);
for (let i = 0; i < Math.min(500, rounds); i++) oneRound();
// CPU time, not wall time: the machine is shared, and a busy neighbour must not halve the number
const start = process.cpuUsage();
for (let i = 0; i < rounds; i++) oneRound();
const used = process.cpuUsage(start);
const sec = (used.user + used.system) / 1e6;
const evals = rounds * evalsPerRound;
const sample = evalRef(compiled, 'data.arbiter.policies', { input: decisions[0]?.propose, data });
console.log(
  JSON.stringify({
    examples: decisions.length,
    evalsPerRound,
    rounds,
    evalsPerSec: Math.round(evals / sec),
    decisionsPerSec: Math.round((rounds * decisions.length) / sec),
    usPerEval: Math.round((sec / evals) * 1e6 * 10) / 10,
    sampleBytes: sample === undefined ? 0 : stringifyJSON(sample).length,
  }),
);
