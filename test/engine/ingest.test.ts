import { describe, expect, it } from 'vitest';
import { InputError } from '../../engine/errors.ts';
import { MAX_DOCUMENT_BYTES, parseContextOverride, parseDiagnosis } from '../../engine/ingest.ts';
import { diagnosis } from './fixtures.ts';

const GOOD = diagnosis();
const json = (v: unknown) => JSON.stringify(v);
const rejects = (text: string, message: RegExp) => {
  let err: unknown;
  try {
    parseDiagnosis(text, 'diag.json');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message.startsWith('diag.json')).toBe(true);
};

describe('ingest: accepted forms', () => {
  it('JSON', () => expect(parseDiagnosis(json(GOOD), 'd.json').id).toBe('d-1'));
  it('YAML', () => {
    const yaml = `apiVersion: arbiter.dev/v1\nkind: Diagnosis\nid: d-2\nincident: INC-1\nobservedAt: 2026-11-21T02:13:00Z\ntarget: { service: checkout }\nhypotheses:\n  - { cause: memory-leak, confidence: 0.9 }\n`;
    expect(parseDiagnosis(yaml, 'd.yaml')).toMatchObject({ id: 'd-2', observedAt: '2026-11-21T02:13:00Z' });
  });
  it('a structured CloudEvent carrying the Diagnosis in data', () => {
    const ce = { specversion: '1.0', type: 'dev.arbiter.diagnosis', source: '/aiops', id: 'e-1', datacontenttype: 'application/json', data: GOOD };
    expect(parseDiagnosis(json(ce), 'ce.json').id).toBe('d-1');
  });
  it('a CloudEvent whose data is a JSON string', () => {
    expect(parseDiagnosis(json({ specversion: '1.0', id: 'e', source: 's', type: 't', data: json(GOOD) }), 'ce.json').incident).toBe('INC-1');
  });
});

describe('ingest: bad input is an InputError naming the field', () => {
  it('confidence out of range', () => rejects(json({ ...GOOD, hypotheses: [{ cause: 'x', confidence: 1.5 }] }), /hypotheses\[0\]\.confidence: must be ≤ 1/));
  it('wrong type', () => rejects(json({ ...GOOD, hypotheses: [{ cause: 'x', confidence: 'high' }] }), /hypotheses\[0\]\.confidence: must be a number/));
  it('unknown apiVersion', () => rejects(json({ ...GOOD, apiVersion: 'arbiter.dev/v2' }), /apiVersion: must be "arbiter\.dev\/v1"/));
  it('missing required field', () => rejects(json({ ...GOOD, observedAt: undefined }), /observedAt: is required/));
  it('path-like incident', () => rejects(json({ ...GOOD, incident: '../x' }), /incident: /));
  it('path-like service', () => rejects(json({ ...GOOD, target: { service: '../x' } }), /target\.service: must be a DNS-1123 label/));
  it('unknown field', () => rejects(json({ ...GOOD, extra: 1 }), /unknown field "extra"/));
  it('no hypotheses', () => rejects(json({ ...GOOD, hypotheses: [] }), /hypotheses: must have at least 1/));
  it('not a timestamp', () => rejects(json({ ...GOOD, observedAt: 'yesterday' }), /observedAt: must be an RFC 3339 timestamp/));
  it('invalid JSON', () => rejects('{"id": ', /not valid JSON/));
  it('oversize document', () => rejects(`{"pad": "${'x'.repeat(MAX_DOCUMENT_BYTES)}"}`, /larger than 1048576 bytes/));
  it('YAML alias bomb', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]'].join('\n');
    rejects(bomb, /YAML aliases are not accepted/);
  });
  it('deep nesting', () => rejects(`${'['.repeat(100)}${']'.repeat(100)}`, /nesting deeper than/));
  it('CloudEvent with a wrong specversion names the field', () => rejects(json({ specversion: '0.3', data: GOOD }), /specversion/));
  it('CloudEvent data errors are reported under data.', () => rejects(json({ specversion: '1.0', data: { ...GOOD, hypotheses: [{ cause: 'x', confidence: -1 }] } }), /data\.hypotheses\[0\]\.confidence: must be ≥ 0/));
  it('duplicate YAML keys', () => rejects('id: a\nid: b\n', /not valid YAML/));
});

describe('ingest: context files', () => {
  it('accept a deep-partial context', () => {
    expect(parseContextOverride('calendar: { businessHours: true }\nhistory: { circuitOpen: true }\n', 'ctx.yaml')).toEqual({ calendar: { businessHours: true }, history: { circuitOpen: true } });
  });
  it('name the bad field', () => {
    expect(() => parseContextOverride('service: { criticality: extreme }', 'ctx.yaml')).toThrow(/ctx\.yaml: service\.criticality/);
  });
});
