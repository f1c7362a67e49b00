// Schema-aware type checking of `input` (OPA's `opa check --schema`): the decision backend compiles with the JSON
// Schema generated from the same zod schemas that validate the input, so a misspelt field is a rego_type_error at
// load; what OPA accepts under a schema (open objects, fields the schema declares, nullable fields) still loads.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../engine/bundle.ts';
import { RegoError, compileModules, typeOfJsonSchema } from '../../engine/rego/index.ts';
import { POLICY_INPUT_JSON_SCHEMA } from '../../engine/rego/input-schema.ts';
import { formatType } from '../../engine/rego/typecheck.ts';

const REGO_BUNDLE = fileURLToPath(new URL('../../policies/remediation-rego', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'arbiter-input-schema-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function withSchema(body: string, schema: unknown = POLICY_INPUT_JSON_SCHEMA): string | null {
  try {
    compileModules([{ file: 'p.rego', source: `package p\n\n${body}\n` }], { inputSchema: schema });
    return null;
  } catch (err) {
    if (!(err instanceof RegoError)) throw err;
    return `${err.location?.row}: ${err.code}: ${err.detail}`;
  }
}

describe('refs into input are checked against the input schema', () => {
  it('a misspelt field is an undefined ref, listing the fields there are', () => {
    expect(withSchema('r if input.diagnosis.hypotheses[_].casue == "x"')).toBe('3: rego_type_error: undefined ref: input.diagnosis.hypotheses[_].casue');
    expect(withSchema('r if input.contxt.killSwitch')).toBe('3: rego_type_error: undefined ref: input.contxt.killSwitch');
  });

  it('through a variable bound by `some … in`', () => {
    expect(withSchema('r if {\n\tsome h in input.diagnosis.hypotheses\n\th.casue == "x"\n}')).toBe('5: rego_type_error: undefined ref: h.casue');
  });

  it('a scalar field cannot be dereferenced', () => {
    expect(withSchema('r if input.diagnosis.target.service.name == "x"')).toMatch(/^3: rego_type_error: undefined ref: input\.diagnosis\.target\.service\.name$/);
  });

  it('declared fields, open objects (signals, params) and nullable fields are accepted', () => {
    for (const body of [
      'r if input.diagnosis.hypotheses[_].cause == "x"',
      'r if input.diagnosis.signals.anything > 1',
      'r if input.action.params.value > 1',
      'r if input.context.calendar.peakEvent == null',
      'r if { some i, h in input.diagnosis.hypotheses; i >= 0; h.confidence > 0.5 }',
      'r if input.diagnosis.hypotheses[0].subject.name',
      'r := input',
    ]) {
      expect(withSchema(body), body).toBeNull();
    }
  });

  it('without a schema nothing about input is assumed (as OPA)', () => {
    expect(() => compileModules([{ file: 'p.rego', source: 'package p\n\nr if input.anything.at.all\n' }])).not.toThrow();
  });
});

describe('JSON Schema to Rego type, as OPA reads schemas', () => {
  it('objects with properties are closed, without properties open; anyOf is a union', () => {
    const t = typeOfJsonSchema({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'array', items: { type: 'integer' } }, c: { anyOf: [{ type: 'string' }, { type: 'null' }] }, d: { type: 'object' } },
    });
    expect(formatType(t)).toBe('object<a: string, b: array[number], c: any<string, null>, d: object[any: any]>');
  });

  it('follows local $refs and stops at recursive ones', () => {
    const t = typeOfJsonSchema({ $defs: { n: { type: 'object', properties: { next: { $ref: '#/$defs/n' }, v: { type: 'number' } } } }, $ref: '#/$defs/n' });
    expect(formatType(t)).toBe('object<next: any, v: number>');
  });

  it('any field the schema declares is accepted (property)', () => {
    const name = fc.stringMatching(/^[a-z][a-zA-Z]{0,8}$/);
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 5 }), fc.nat(), (names, pick) => {
        const schema = { type: 'object', properties: Object.fromEntries(names.map((n) => [n, { type: 'object' }])) };
        const chosen = names[pick % names.length] as string;
        expect(withSchema(`r if input.${chosen}.x`, schema)).toBeNull();
        expect(withSchema(`r if input.${chosen}Zz.x`, schema)).toMatch(/rego_type_error: undefined ref/);
      }),
      { numRuns: 50 },
    );
  });
});

describe('the shipped Rego bundle', () => {
  it('loads with the schema (every input ref it makes is declared)', async () => {
    await expect(loadBundle(REGO_BUNDLE)).resolves.toBeTruthy();
  });

  it('a typo in a shipped policy is a load error naming file:row:col', async () => {
    const dir = join(tmp, 'typo');
    cpSync(REGO_BUNDLE, dir, { recursive: true });
    const file = join(dir, 'cve_patch_priority.rego');
    const source = readFileSync(file, 'utf8');
    expect(source).toContain('input.diagnosis.target.environment');
    writeFileSync(file, source.replace('input.diagnosis.target.environment', 'input.diagnosis.target.enviroment'));
    await expect(loadBundle(dir)).rejects.toThrow(/cve_patch_priority\.rego:\d+:\d+.*rego_type_error: undefined ref: input\.diagnosis\.target\.enviroment/);
  });
});
