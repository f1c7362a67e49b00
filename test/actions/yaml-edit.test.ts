// Round-trip edits: a value keeps its style, and a new value never reads back as another type.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, parseDocument } from 'yaml';
import { applySplices, readsBackAs, renderScalar, replaceScalar, setScalarAt } from '../../actions/yaml-edit.ts';
import type { Scalar } from 'yaml';

function edit(source: string, keys: string[], value: string | number | boolean, doc = 0): string {
  const d = parseAllDocuments(source)[doc]!;
  const s = setScalarAt(source, (d as { contents: unknown }).contents, keys, value);
  return s ? applySplices(source, [s]) : source;
}

describe('renderScalar keeps the style and the type', () => {
  it('quotes plain strings that YAML 1.1 or 1.2 would read as something else', () => {
    for (const s of [',', ',x', ']', '{', '!tag', '&anchor', '*alias', 'on', 'yes', 'No', 'null', '~', '1.5', '0x1F', '010', '2026-11-21', 'a: b', '- x', '#c', '']) {
      expect(renderScalar(s, 'PLAIN')).toBe(JSON.stringify(s));
    }
    expect(renderScalar('1.4.1', 'PLAIN')).toBe('1.4.1');
    expect(renderScalar(6, 'PLAIN')).toBe('6');
    expect(renderScalar("it's", 'QUOTE_SINGLE')).toBe("'it''s'");
  });

  it('any string, in any style, reads back as itself', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.constantFrom('PLAIN', 'QUOTE_SINGLE', 'QUOTE_DOUBLE'), (s, style) => {
        expect(parse(`k: ${renderScalar(s, style)}`, { version: '1.1' })).toEqual({ k: s });
        expect(parse(`k: ${renderScalar(s, style)}`)).toEqual({ k: s });
        const doc = parseDocument(`k: ${renderScalar(s, style)}`, { logLevel: 'silent' });
        expect([...doc.errors, ...doc.warnings]).toEqual([]);
      }),
      { numRuns: 2000 },
    );
    expect(readsBackAs('true', true)).toBe(true);
  });
});

describe('setScalarAt', () => {
  it('changes one value in the second document of a multi-document file and nothing else', () => {
    const source = '# head\n---\na: 1\n---\n# doc two\nb:\n  c: "x"   # keep\n  d: [1, 2]\n';
    expect(edit(source, ['b', 'c'], 'y', 1)).toBe('# head\n---\na: 1\n---\n# doc two\nb:\n  c: "y"   # keep\n  d: [1, 2]\n');
  });

  it('creates missing mappings in block style at the file\'s indentation step', () => {
    const source = 'spec:\n    template:\n        metadata:\n            labels:\n                app: x\n';
    expect(edit(source, ['spec', 'template', 'metadata', 'annotations', 'k'], 'v')).toBe(
      'spec:\n    template:\n        metadata:\n            labels:\n                app: x\n            annotations:\n                k: "v"\n',
    );
  });

  it('appends to a file without a final newline', () => {
    expect(edit('a:\n  b: 1', ['a', 'c'], 2)).toBe('a:\n  b: 1\n  c: 2\n');
  });

  it('fills an empty flow mapping', () => {
    expect(edit('metadata:\n  annotations: {}\n', ['metadata', 'annotations', 'k'], 'v')).toBe('metadata:\n  annotations: {k: "v"}\n');
  });

  it('returns no splice when the value is already there', () => {
    const d = parseAllDocuments('a: "1"\n')[0]!;
    const node = (d.contents as { items: Array<{ value: Scalar }> }).items[0]!.value;
    expect(replaceScalar('a: "1"\n', node, '1')).toBeNull();
    expect(replaceScalar('a: "1"\n', node, 1)).not.toBeNull();
  });

  it('keeps a block scalar\'s line break when replacing it', () => {
    expect(edit('a: |\n  text\nb: 1\n', ['a'], 'new')).toBe('a: new\nb: 1\n');
  });
});
