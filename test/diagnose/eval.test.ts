// The evaluation set through the Messages API stand-in with its scripted model turns: every recorded tool result
// reaches the model as data, every submission passes validation, and the shipped bundle takes the recorded action.
import { describe, expect, it } from 'vitest';
import { createModelClient } from '../../diagnose/model.ts';
import { evaluateIncident, loadIncidents, report, type Incident, type IncidentResult } from '../../diagnose/eval/incidents.ts';
import { reply, startAnthropicStandin, toolUse, type ScriptStep } from '../support/anthropic-standin.ts';
import { fixedFields } from './setup.ts';

const incidents = loadIncidents();

function scriptOf(incident: Incident): ScriptStep[] {
  return incident.script.map((turn) =>
    'calls' in turn
      ? reply(turn.calls.map((c) => toolUse(Object.keys(c)[0]!, Object.values(c)[0])))
      : (req) => reply([toolUse('submit_diagnosis', { ...fixedFields(req.body), ...turn.submit })]),
  );
}

describe('the evaluation set (scripted model turns)', () => {
  it('has at least 10 incidents with distinct names', () => {
    expect(incidents.length).toBeGreaterThanOrEqual(10);
    expect(new Set(incidents.map((i) => i.name)).size).toBe(incidents.length);
  });

  const results: IncidentResult[] = [];
  for (const incident of incidents) {
    it(`${incident.name}: the submission names ${incident.cause} and the shipped bundle decides ${incident.expect.mode} ${incident.expect.action ?? 'no action'}`, async () => {
      const api = await startAnthropicStandin(scriptOf(incident));
      try {
        const result = await evaluateIncident(incident, { client: createModelClient({ apiKey: 'eval', baseURL: api.url, maxRetries: 0 }), model: 'claude-opus-5-5' });
        results.push(result);
        expect(result.error).toBeUndefined();
        expect(api.remaining).toBe(0);
        // only recorded tools are offered, and each recorded output reached the model inside a data element
        expect(api.requests[0]!.body.tools.map((t: any) => t.name).sort()).toEqual([...Object.keys(incident.tools), 'submit_diagnosis'].sort());
        const called = incident.script.flatMap((t) => ('calls' in t ? t.calls.map((c) => Object.keys(c)[0]!) : []));
        const results_ = api.requests.flatMap((r) => (Array.isArray(r.body.messages.at(-1).content) ? r.body.messages.at(-1).content : []));
        for (const name of called) {
          const sent = results_.find((b: any) => b.type === 'tool_result' && b.content.startsWith(`<tool_output tool="${name}"`));
          expect(sent, name).toBeDefined();
          expect(JSON.parse(sent.content.split('\n')[1])).toEqual(incident.tools[name as keyof Incident['tools']]);
        }
        expect(result.cause).toBe(incident.cause);
        expect(result.decision).toEqual({ mode: incident.expect.mode, action: incident.expect.action });
      } finally {
        await api.close();
      }
    });
  }

  it('reports accuracy and tokens per incident', () => {
    const text = report(results);
    expect(text).toContain(`cause accuracy: ${incidents.length}/${incidents.length} (100%)`);
    expect(text).toMatch(/per incident input [1-9]\d*, output [1-9]\d*/);
  });
});
