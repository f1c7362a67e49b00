// Expectation matching: subset semantics for decisions, exact sets for changed files, diffs that name the field.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDiff, matchFields, matchSet, partialMatch, type Mismatch } from '../../scenarios/runner/match.ts';
import { mergeOverride } from '../../scenarios/runner/schema.ts';

describe('partialMatch', () => {
  it('every JSON value matches itself', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => partialMatch(v, v)));
  });

  it('an object matches any superset of its keys', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.dictionary(fc.string(), fc.jsonValue()), (expected, extra) => {
        const actual = { ...extra, ...expected };
        return partialMatch(expected, actual);
      }),
    );
  });

  it('a changed scalar under a key does not match', () => {
    expect(partialMatch({ action: { kind: 'restart' } }, { action: { kind: 'rollback', params: {} } })).toBe(false);
    expect(partialMatch({ support: 0.9 }, { support: 0.91 })).toBe(false);
  });

  it('array elements match some element of the actual array', () => {
    const candidates = [{ action: { kind: 'restart' }, effect: 'deny' }, { action: { kind: 'scale' }, effect: 'allow' }];
    expect(partialMatch([{ effect: 'allow' }], candidates)).toBe(true);
    expect(partialMatch([{ action: { kind: 'restart' }, effect: 'allow' }], candidates)).toBe(false);
  });
});

describe('matchSet (git.changed)', () => {
  it('reports missing and unexpected files', () => {
    const out: Mismatch[] = [];
    matchSet('git.changed', ['a', 'b'], ['b', 'c'], out);
    expect(out[0]!.notes).toEqual(['missing:    a', 'unexpected: c']);
  });

  it('is silent exactly when the sets are equal', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string()), fc.uniqueArray(fc.string()), (a, b) => {
        const out: Mismatch[] = [];
        matchSet('x', a, b, out);
        const equal = a.length === b.length && a.every((x) => b.includes(x));
        return (out.length === 0) === equal;
      }),
    );
  });
});

describe('formatDiff', () => {
  it('names the nested field that differs, with expected and actual lines', () => {
    const out: Mismatch[] = [];
    matchFields('decision', { action: { kind: 'restart', params: { replicas: 4 } } }, { action: { kind: 'restart', params: { replicas: 6 } } }, out);
    expect(formatDiff(out)).toBe('decision.action.params.replicas:\n- expected: 4\n+ actual:   6');
  });
});

describe('mergeOverride (context)', () => {
  it('merges objects field by field; scalars and arrays replace', () => {
    expect(mergeOverride({ calendar: { businessHours: false }, now: 'a' }, { calendar: { changeFreeze: true }, now: 'b' })).toEqual({
      calendar: { businessHours: false, changeFreeze: true },
      now: 'b',
    });
  });
});
