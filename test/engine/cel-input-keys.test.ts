// CEL input of any shape (issue 11 item 6): keys such as `constructor`, `__proto__` or `toString` in a signal name or a
// data document are ordinary keys. The CEL policy decides what its Rego edition decides, with either CEL adapter, and
// the backend's field-path shortcut reads what CEL reads.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBufbuildEngine } from '../../engine/cel/bufbuild.ts';
import { createMarcbachmannEngine, type CelEngine } from '../../engine/cel/index.ts';
import { compileCelPolicy, createCelBackend } from '../../engine/cel/policy.ts';
import { createInterpreterBackend } from '../../engine/rego/backend.ts';
import type { Action, Verdict } from '../../engine/types.ts';
import { context, diagnosis } from './fixtures.ts';

const AWKWARD_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', 'then', 'length', 'size', 'isPrototypeOf'];
const keyArb = fc.oneof(fc.constantFrom(...AWKWARD_KEYS), fc.stringMatching(/^[a-z][A-Za-z]{0,8}$/));

const celPolicy = (key: string): string =>
  [
    'apiVersion: arbiter.dev/v1',
    'kind: CelPolicy',
    'metadata: { name: keys }',
    'spec:',
    '  verdicts:',
    `    - { when: ${JSON.stringify(`${JSON.stringify(key)} in diagnosis.signals && diagnosis.signals[${JSON.stringify(key)}] > 0.5`)}, effect: deny, reason: high }`,
    `    - { when: ${JSON.stringify(`!(${JSON.stringify(key)} in diagnosis.signals)`)}, effect: notify, reason: absent }`,
    `    - { when: ${JSON.stringify(`data.labels.team == "a" && ${JSON.stringify(key)} in data.labels && data.labels[${JSON.stringify(key)}] == "x"`)}, effect: require_approval, reason: label }`,
    `    - { when: ${JSON.stringify('data.labels.team == "a"')}, effect: allow, reason: team }`,
  ].join('\n');

const regoPolicy = (key: string): string =>
  [
    'package arbiter.policies.keys',
    '',
    `verdicts contains {"effect": "deny", "reason": "high"} if input.diagnosis.signals[${JSON.stringify(key)}] > 0.5`,
    '',
    `verdicts contains {"effect": "notify", "reason": "absent"} if not ${JSON.stringify(key)} in object.keys(input.diagnosis.signals)`,
    '',
    `verdicts contains {"effect": "require_approval", "reason": "label"} if {\n  data.labels.team == "a"\n  data.labels[${JSON.stringify(key)}] == "x"\n}`,
    '',
    'verdicts contains {"effect": "allow", "reason": "team"} if data.labels.team == "a"',
    '',
  ].join('\n');

const action: Action = { kind: 'restart', target: { service: 'checkout', namespace: 'shop' }, params: {} };
const effects = (vs: Verdict[]): string[] => vs.map((v) => `${v.effect}:${v.reason}${v.error ? ` ${v.error}` : ''}`).sort();

describe('keys such as constructor are ordinary keys (property)', () => {
  const engines: Array<[string, CelEngine]> = [
    ['@marcbachmann/cel-js', createMarcbachmannEngine()],
    ['@bufbuild/cel', createBufbuildEngine()],
  ];
  for (const [name, engine] of engines) {
    it(`${name}: the CEL policy gives its Rego edition's verdicts, without errors`, () => {
      fc.assert(
        fc.property(keyArb, fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), fc.boolean(), (key, value, labelled) => {
          // JSON.parse: a `__proto__` key is an own property, as in a parsed diagnosis
          const signals = JSON.parse(value === undefined ? '{"other": 1}' : `{${JSON.stringify(key)}: ${value}, "other": 1}`) as Record<string, number>;
          const labels = JSON.parse(labelled ? `{"team": "a", ${JSON.stringify(key)}: "x"}` : '{"team": "a"}') as Record<string, string>;
          const data = { labels };
          const input = { diagnosis: diagnosis({ signals }), context: context(), action };
          const cel = createCelBackend([compileCelPolicy(celPolicy(key), 'keys.cel.yaml', engine)], data).judge(input);
          const rego = createInterpreterBackend({ regoModules: [{ file: 'keys.rego', source: regoPolicy(key) }], data, celPolicies: [] }).judge(input);
          expect(cel.filter((v) => v.error)).toEqual([]);
          expect(effects(cel)).toEqual(effects(rego));
        }),
        { numRuns: 150 },
      );
    });
  }

  it('a `constructor` key read by a field path (the shortcut) and by CEL gives the same', () => {
    const engine = createMarcbachmannEngine();
    const text = ['apiVersion: arbiter.dev/v1', 'kind: CelPolicy', 'metadata: { name: paths }', 'spec:', '  verdicts:', '    - { when: data.labels.constructor, effect: deny, reason: path }', '    - { when: "data.labels.constructor && true || false", effect: notify, reason: cel }'].join('\n');
    const backend = createCelBackend([compileCelPolicy(text, 'paths.cel.yaml', engine)], { labels: { constructor: true } });
    expect(effects(backend.judge({ diagnosis: diagnosis(), context: context(), action }))).toEqual(['deny:path', 'notify:cel']);
  });
});
