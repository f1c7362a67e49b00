// Every YAML edit is re-parsed and compared with the intended change: a hostile set-config value either reads back as
// exactly itself in the one key it was meant for, or the plan is refused. Never an extra key, a broken file, an
// anchor, a tag or a second document.
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { PlanRefusedError } from '../../actions/index.ts';
import type { Plan } from '../../actions/types.ts';
import { applySplices, verifyYamlEdit } from '../../actions/yaml-edit.ts';
import type { Scalar } from 'yaml';
import { shopTree } from './fixture-tree.ts';
import { plan } from './setup.ts';

const CM = 'apps/checkout/base/configmap.yaml';
const FLOW = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: checkout-config}\ndata: {LOG_LEVEL: info, DB_TIMEOUT_MS: "1500"}\n';
const BLOCK = shopTree().read(CM)!;

const readData = (text: string, version: '1.1' | '1.2'): Record<string, unknown> => {
  const docs = parseAllDocuments(text, { version });
  expect(Array.isArray(docs) && docs.every((d) => d.errors.length === 0)).toBe(true);
  return (docs as Array<{ toJS(): { data: Record<string, unknown> } }>)[0]!.toJS().data;
};

const hostile = [
  '1,EVIL',
  'x}',
  '{EVIL: 1}',
  '[a, b]',
  'a #comment',
  'a: b',
  'EVIL: 1',
  '&a x',
  '*a',
  '!!python/object/apply:os.system ["id"]',
  '!<tag:yaml.org,2002:int> 1',
  '--- \nkind: Secret',
  '... ',
  '"quoted"',
  "'single'",
  '%YAML 1.1',
  '? key',
  '| block',
  '> folded',
  '@reserved',
  '`backtick',
  'on',
  'yes',
  '0x1F',
  '1e3',
  '~',
  'null',
  ' leading space',
  'trailing space ',
  'x'.repeat(1024),
];

describe('set-config values that try to change the YAML structure', () => {
  for (const [style, source] of [['flow mapping', FLOW], ['block mapping', BLOCK]] as const) {
    it.each(hostile)(`${style}: %j sets LOG_LEVEL to exactly that text, or is refused`, async (value) => {
      const tree = shopTree().withFile(CM, source);
      const result: Plan | unknown = await plan('checkout', 'set-config', { configMap: 'checkout-config', key: 'LOG_LEVEL', value }, { tree }).catch((e: unknown) => e);
      if (result instanceof Error) {
        expect(result).toBeInstanceOf(PlanRefusedError);
        return;
      }
      const after = (result as Plan).edits.find((e) => e.path === CM)!.after!;
      for (const version of ['1.1', '1.2'] as const) {
        const before = readData(source, version);
        expect(readData(after, version)).toEqual({ ...before, LOG_LEVEL: value });
      }
      expect(parseAllDocuments(after)).toHaveLength(1);
    });
  }

  it.each(['a\nEVIL: 1', 'nul\u0000byte', 'esc\u001b[31m', 'cr\rlf', 'tab\tx'])('refuses a value with a control character: %j', async (value) => {
    await expect(plan('checkout', 'set-config', { configMap: 'checkout-config', key: 'LOG_LEVEL', value })).rejects.toThrow(/control character/);
  });

  it('rejects values longer than the schema allows (1024)', async () => {
    await expect(plan('checkout', 'set-config', { configMap: 'checkout-config', key: 'LOG_LEVEL', value: 'x'.repeat(1025) })).rejects.toThrow(/1024/);
  });
});

describe('verifyYamlEdit refuses any splice whose re-parse is not the intended change', () => {
  const node = (source: string): Scalar => (parseAllDocuments(source)[0] as unknown as { getIn(p: string[], keep: true): Scalar }).getIn(['data', 'LOG_LEVEL'], true);

  it('an added key inside a flow mapping', () => {
    const at = node(FLOW);
    const splice = { start: at.range![0], end: at.range![1], text: '1, EVIL: x', intent: { at, keys: [], value: '1, EVIL: x' } };
    expect(() => verifyYamlEdit(CM, FLOW, applySplices(FLOW, [splice]), [splice])).toThrow(/would change more than data\.LOG_LEVEL/);
  });

  it('a file that no longer parses', () => {
    const at = node(FLOW);
    const splice = { start: at.range![0], end: at.range![1], text: 'x}', intent: { at, keys: [], value: 'x}' } };
    expect(() => verifyYamlEdit(CM, FLOW, applySplices(FLOW, [splice]), [splice])).toThrow(/unparseable/);
  });

  it('a value YAML 1.1 (kubectl) reads as another type', () => {
    const at = node(BLOCK);
    const splice = { start: at.range![0], end: at.range![1], text: 'on', intent: { at, keys: [], value: 'on' } };
    expect(() => verifyYamlEdit(CM, BLOCK, applySplices(BLOCK, [splice]), [splice])).toThrow(/YAML 1\.1/);
  });

  it('a splice without a declared intent', () => {
    const splice = { start: 0, end: 0, text: '# hi\n' };
    expect(() => verifyYamlEdit(CM, BLOCK, applySplices(BLOCK, [splice]), [splice])).toThrow(/without a declared intent/);
  });

  it('accepts the intended change (the check is not a blanket refusal)', () => {
    const at = node(BLOCK);
    const splice = { start: at.range![0], end: at.range![1], text: 'debug', intent: { at, keys: [], value: 'debug' } };
    expect(() => verifyYamlEdit(CM, BLOCK, applySplices(BLOCK, [splice]), [splice])).not.toThrow();
  });
});
