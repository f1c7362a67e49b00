// Builtins: regex.match, regex.is_valid, regex.split, regex.replace, regex.find_n, regex.find_all_string_submatch_n, regex.template_match, regex.globs_match
// Patterns are RE2 (Go regexp) as in OPA, matched in linear time by regex-re2.ts, which replays Go's iteration rules.
import type { Value } from '../value.ts';
import { BuiltinError, T, expectString, register, registerValidity } from './registry.ts';
import { globsIntersect } from './regex-globs.ts';
import { compileRE2, findAll, quoteMeta, regexFor, replaceAllRE2, splitRE2, testRE2 } from './regex-re2.ts';
import { expectInt } from './strings-operands.ts';

const S = T.string;

register({
  name: 'regex.match',
  sig: { args: [S, S], result: T.boolean },
  fn: ([p, v]) => {
    const re = regexFor('regex.match', expectString('regex.match', 1, p as Value));
    return testRE2(re, expectString('regex.match', 2, v as Value));
  },
});

registerValidity('regex.is_valid', (s) => compileRE2(s));

register({
  name: 'regex.split',
  sig: { args: [S, S], result: T.array(S) },
  fn: ([p, v], ctx) => {
    const pattern = expectString('regex.split', 1, p as Value);
    return splitRE2('regex.split', regexFor('regex.split', pattern), pattern, expectString('regex.split', 2, v as Value), -1, ctx);
  },
});

register({
  name: 'regex.replace',
  sig: { args: [S, S, S], result: S },
  fn: ([s, p, r], ctx) => {
    const text = expectString('regex.replace', 1, s as Value);
    const re = regexFor('regex.replace', expectString('regex.replace', 2, p as Value));
    return replaceAllRE2('regex.replace', re, text, expectString('regex.replace', 3, r as Value), ctx);
  },
});

register({
  name: 'regex.find_n',
  sig: { args: [S, S, T.number], result: T.array(S) },
  fn: ([p, v, n], ctx) => {
    const re = regexFor('regex.find_n', expectString('regex.find_n', 1, p as Value));
    return findAll('regex.find_n', re, expectString('regex.find_n', 2, v as Value), expectInt('regex.find_n', 3, n as Value), ctx).map((m) => m.groups[0] ?? '');
  },
});

register({
  name: 'regex.find_all_string_submatch_n',
  sig: { args: [S, S, T.number], result: T.array(T.array(S)) },
  fn: ([p, v, n], ctx) => {
    const name = 'regex.find_all_string_submatch_n';
    const re = regexFor(name, expectString(name, 1, p as Value));
    return findAll(name, re, expectString(name, 2, v as Value), expectInt(name, 3, n as Value), ctx).map((m) => m.groups.map((g) => g ?? ''));
  },
});

/** Positions of balanced delimiter pairs (gorilla/mux's braceIndices, as OPA uses for templates). */
function delimiterIndices(tpl: string[], open: string, close: string): number[] {
  let level = 0;
  let idx = 0;
  const out: number[] = [];
  tpl.forEach((ch, i) => {
    if (ch === open) {
      if (++level === 1) idx = i;
    } else if (ch === close) {
      if (--level === 0) out.push(idx, i + 1);
      else if (level < 0) throw new BuiltinError('regex.template_match', `unbalanced braces in ${JSON.stringify(tpl.join(''))}`);
    }
  });
  if (level !== 0) throw new BuiltinError('regex.template_match', `unbalanced braces in ${JSON.stringify(tpl.join(''))}`);
  return out;
}

register({
  name: 'regex.template_match',
  sig: { args: [S, S, S, S], result: T.boolean },
  fn: ([t, v, ds, de]) => {
    const name = 'regex.template_match';
    const tpl = [...expectString(name, 1, t as Value)];
    const value = expectString(name, 2, v as Value);
    const open = [...expectString(name, 3, ds as Value)][0] ?? '';
    const close = [...expectString(name, 4, de as Value)][0] ?? '';
    const idxs = delimiterIndices(tpl, open, close);
    let pattern = '^';
    let end = 0;
    for (let i = 0; i < idxs.length; i += 2) {
      const s = idxs[i] as number;
      const e = idxs[i + 1] as number;
      pattern += `${quoteMeta(tpl.slice(end, s).join(''))}(${tpl.slice(s + 1, e - 1).join('')})`;
      end = e;
    }
    pattern += `${quoteMeta(tpl.slice(end).join(''))}$`;
    return testRE2(regexFor(name, pattern), value);
  },
});

register({
  name: 'regex.globs_match',
  sig: { args: [S, S], result: T.boolean },
  fn: ([a, b]) => globsIntersect(expectString('regex.globs_match', 1, a as Value), expectString('regex.globs_match', 2, b as Value)),
});
