// A JSON Schema for every file format arbiter reads (issue 15 item 4): the committed schemas/*.json are what
// `arbiter schema` generates from the zod definitions, and every shipped YAML file names its schema and passes it.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { FILE_FORMATS, fileFormatSchema, fileFormatSchemaText } from '../../bin/cli/formats.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

function shippedYaml(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const rel = join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (/\.ya?ml$/.test(e.name)) out.push(rel);
    }
  };
  walk('policies');
  for (const f of readdirSync(join(ROOT, 'scenarios'))) if (/\.ya?ml$/.test(f)) out.push(join('scenarios', f));
  for (const f of readdirSync(join(ROOT, 'scenarios/fixtures/shop/.arbiter'))) if (/\.ya?ml$/.test(f)) out.push(join('scenarios/fixtures/shop/.arbiter', f));
  return out.sort();
}

describe('schemas/', () => {
  it('holds exactly the generated schema of every format (run `arbiter schema --write schemas` after changing one)', () => {
    const committed = readdirSync(join(ROOT, 'schemas')).filter((f) => f.endsWith('.json')).sort();
    expect(committed).toEqual(Object.keys(FILE_FORMATS).map((n) => `${n}.json`).sort());
    for (const name of Object.keys(FILE_FORMATS)) expect(readFileSync(join(ROOT, 'schemas', `${name}.json`), 'utf8'), name).toBe(fileFormatSchemaText(name));
  });
  it('arbiter schema lists every format; arbiter schema NAME prints it; an unknown name is a usage error', () => {
    const bin = join(ROOT, 'bin/arbiter');
    const list = spawnSync(process.execPath, [bin, 'schema'], { encoding: 'utf8' });
    expect(list.status).toBe(0);
    expect(list.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0])).toEqual(Object.keys(FILE_FORMATS));
    const one = spawnSync(process.execPath, [bin, 'schema', 'cel-policy'], { encoding: 'utf8' });
    expect(JSON.parse(one.stdout)).toEqual(fileFormatSchema('cel-policy'));
    const bad = spawnSync(process.execPath, [bin, 'schema', 'nope'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
  });
});

describe('shipped YAML files', () => {
  const files = shippedYaml();
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  it('there are shipped files of every kind that has them', () => {
    expect(files.length).toBeGreaterThan(40);
  });
  for (const file of files) {
    it(`${file} references its schema and validates against it`, () => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const m = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
      expect(m, `${file} has no yaml-language-server schema comment`).not.toBeNull();
      const schemaFile = resolve(ROOT, dirname(file), m![1]!);
      const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as { $id: string };
      const validate = ajv.getSchema(schema.$id) ?? ajv.compile(schema);
      const ok = validate(parse(text) ?? {});
      expect(ok, `${file}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    });
  }
});
