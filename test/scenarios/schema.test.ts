// The scenario format: §9 plus the documented extensions, every error an InputError naming file and field.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { InputError } from '../../engine/errors.ts';
import { loadScenario } from '../../scenarios/runner/schema.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const diagnosis = {
  apiVersion: 'arbiter.dev/v1', kind: 'Diagnosis', id: 'd1', incident: 'INC-1', observedAt: '2026-11-21T02:13:00Z',
  target: { service: 'cart' }, hypotheses: [{ cause: 'memory-leak', confidence: 0.9 }],
};
let dir: string;
const write = (name: string, doc: unknown) => {
  const file = join(dir, name);
  writeFileSync(file, stringify(doc));
  return file;
};

beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'arbiter-schema-test-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadScenario', () => {
  it('resolves bundle and repo relative to the scenario file and defaults the branch to main', () => {
    const s = loadScenario(join(ROOT, 'scenarios/memory-leak-off-hours.yaml'));
    expect(s.bundleDir).toBe(join(ROOT, 'policies/remediation'));
    expect(s.repoDir).toBe(join(ROOT, 'scenarios/fixtures/shop'));
    expect(s.branch).toBe('main');
    expect(s.runs).toHaveLength(1);
  });

  it('repeat: N runs the same request N times and marks the scenario as repeated', () => {
    const s = loadScenario(write('repeat.yaml', { name: 'r', bundle: 'b', repo: 'r', repeat: 3, diagnosis }));
    expect(s.runs).toHaveLength(3);
    expect(s.repeated).toBe(true);
    expect(s.parallel).toBe(false);
  });

  it('steps merge the scenario context under each step context, field by field', () => {
    const s = loadScenario(
      write('steps.yaml', {
        name: 's', bundle: 'b', repo: 'r', context: { calendar: { businessHours: false } },
        steps: [{ diagnosis, context: { calendar: { changeFreeze: true } } }, { diagnosis }],
      }),
    );
    expect(s.runs.map((r) => r.context)).toEqual([{ calendar: { businessHours: false, changeFreeze: true } }, { calendar: { businessHours: false } }]);
    expect(s.repeated).toBe(false);
  });

  it('a diagnosis may be a file relative to the scenario', () => {
    const s = loadScenario(write('by-file.yaml', { name: 'f', bundle: 'b', repo: 'r', diagnosis: join(ROOT, 'policies/remediation/examples/memory-leak-off-hours.yaml') }));
    expect(s.runs[0]!.diagnosis.target.service).toBe('checkout');
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['diagnosis and steps together', { diagnosis, steps: [{ diagnosis }] }, /steps: give only one of/],
    ['repeat with concurrent', { repeat: 2, concurrent: [{ diagnosis }, { diagnosis }] }, /repeat:/],
    ['a single concurrent run', { concurrent: [{ diagnosis }] }, /concurrent/],
    ['a changed list of numbers', { diagnosis, expect: { git: { changed: [1] } } }, /expect\.git/],
    ['a missing diagnosis file', { diagnosis: 'nope.yaml' }, /diagnosis: cannot read diagnosis file nope\.yaml/],
  ];
  for (const [what, extra, message] of bad) {
    it(`refuses ${what} with an InputError naming file and field`, () => {
      const file = write(`bad-${what.replace(/\W+/g, '-')}.yaml`, { name: 'x', bundle: 'b', repo: 'r', ...extra });
      let error: unknown;
      try {
        loadScenario(file);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(message);
    });
  }
});
