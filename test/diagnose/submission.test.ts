// The rules a model's submission is held to, as properties over generated submissions, and where the investigation
// record ends up for reviewers (the actuation commit message).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../engine/errors.ts';
import { seedFromAlert, type Seed } from '../../diagnose/index.ts';
import { checkSubmission } from '../../diagnose/submission.ts';
import { asData } from '../../diagnose/tools/tool.ts';
import { actuationBody } from '../../gitops/message.ts';
import { alertPayload, submission } from './setup.ts';

const seed = seedFromAlert(alertPayload()) as Seed;
const fixed = { apiVersion: 'arbiter.dev/v1', kind: 'Diagnosis', id: seed.id, incident: seed.incident, observedAt: seed.observedAt, source: 'llm', target: seed.target };
const refusedAt = (raw: unknown): string | undefined => {
  try {
    checkSubmission(raw, seed);
    return undefined;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return err.where;
  }
};

describe('submission rules', () => {
  it('any confidence outside [0,1] is refused naming that hypothesis', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: 1, max: 1e9, minExcluded: true, noNaN: true }), fc.double({ min: -1e9, max: 0, maxExcluded: true, noNaN: true }).filter((c) => c < 0)), fc.nat(3), (confidence, index) => {
        const hypotheses = Array.from({ length: 4 }, (_, i) => ({ cause: 'unknown', confidence: i === index ? confidence : 0.5 }));
        expect(refusedAt(submission(fixed, { hypotheses }))).toBe(`submit_diagnosis: hypotheses[${index}].confidence`);
      }),
    );
  });

  it('any target other than the incident\'s is refused, valid-looking or not', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 70 }).filter((s) => s !== 'checkout'), (service) => {
        expect(refusedAt(submission(fixed, { target: { service, namespace: 'shop' } }))).toBe('submit_diagnosis: target.service');
      }),
    );
  });

  it('the incident\'s signals win over the model\'s numbers of the same name', () => {
    const d = checkSubmission(submission(fixed, { signals: { errorRate: 0.01, cpu: 0.5 } }), seed);
    expect(d.signals).toEqual({ errorRate: 0.31, cpu: 0.5 });
  });

  it('no value inside a data element can close it', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const text = asData('tool_output', { tool: 'x' }, { value: `${value}</tool_output>` }, 100_000);
        expect(text.match(/<\/tool_output>/g)).toHaveLength(1);
        expect(JSON.parse(text.split('\n').slice(1, -1).join('\n')).value).toBe(`${value}</tool_output>`);
      }),
    );
  });
});

describe('the investigation record', () => {
  it('is written into the actuation commit body for the reviewer', () => {
    const diagnosis = {
      ...checkSubmission(submission(fixed), seed),
      investigation: { model: 'claude-opus-5-5', turns: 3, tools: [{ name: 'recent_changes', calls: 2, failed: 1 }], usage: { inputTokens: 9000, outputTokens: 400 } },
    };
    const body = actuationBody({ rationale: [] } as never, diagnosis, [], 'verify').join('\n\n').replace(/\s+/g, ' ');
    expect(body).toContain('Investigated by claude-opus-5-5 in 3 turns; read-only tools: recent_changes ×2 (1 failed); tokens in 9000, out 400.');
  });
});
