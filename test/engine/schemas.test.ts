// The published JSON Schemas are generated from the zod schemas: they must accept what arbiter accepts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import fc from 'fast-check';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { jsonSchemaOf } from '../../engine/schemas.ts';
import { Diagnosis } from '../../engine/types.ts';
import { diagnosis } from './fixtures.ts';

const EXAMPLES = join(import.meta.dirname, '../../policies/remediation/examples');
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ strict: false, allErrors: true });
const validateDiagnosis = ajv.compile(jsonSchemaOf('diagnosis'));

describe('arbiter schema diagnosis', () => {
  it('accepts every shipped example diagnosis', () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const doc: unknown = YAML.parse(readFileSync(join(EXAMPLES, f), 'utf8'));
      expect(validateDiagnosis(doc), `${f}: ${JSON.stringify(validateDiagnosis.errors)}`).toBe(true);
    }
  });

  it('rejects an out-of-range confidence, an unknown field and a missing target', () => {
    const base = diagnosis();
    expect(validateDiagnosis({ ...base, hypotheses: [{ cause: 'memory-leak', confidence: 1.5 }] })).toBe(false);
    expect(validateDiagnosis({ ...base, extra: true })).toBe(false);
    const { target: _target, ...noTarget } = base;
    expect(validateDiagnosis(noTarget)).toBe(false);
  });

  it('agrees with intake on confidence and service names (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1, max: 2, noNaN: true }), fc.stringMatching(/^[a-z0-9.\/-]{0,12}$/), (confidence, service) => {
        const doc = { ...diagnosis(), target: { service }, hypotheses: [{ cause: 'memory-leak', confidence }] };
        const zodOk = Diagnosis.safeParse(doc).success;
        // the JSON Schema cannot express zod's refinements, so it may only be more permissive, never stricter
        if (zodOk) expect(validateDiagnosis(doc)).toBe(true);
        if (confidence < 0 || confidence > 1) expect(validateDiagnosis(doc)).toBe(false);
      }),
    );
  });
});

describe('arbiter schema context', () => {
  it('is an object schema requiring now, service, calendar, history and killSwitch', () => {
    const schema = jsonSchemaOf('context') as { type: string; required: string[] };
    expect(schema.type).toBe('object');
    expect([...schema.required].sort()).toEqual(['calendar', 'history', 'killSwitch', 'now', 'service']);
  });
});
