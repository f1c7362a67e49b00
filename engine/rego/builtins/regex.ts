// Builtins: regex.match, regex.is_valid, regex.split, regex.replace, regex.find_n, regex.find_all_string_submatch_n, regex.template_match, regex.globs_match
// Patterns are RE2 (Go regexp) as in OPA; regex-re2.ts translates them to JS and replays Go's iteration rules.
import type { Value } from '../value.ts';
import { BuiltinError, T, expectString, register, registerValidity } from './registry.ts';
import { globsIntersect } from './regex-globs.ts';
import { compileRE2, findAll, quoteMeta, regexFor, replaceAllRE2, splitRE2 } from './regex-re2.ts';
import { expectInt } from './strings-operands.ts';

const S = T.string;

register({
  name: 'regex.match',
  sig: { args: [S, S], result: T.boolean },
  fn: ([p, v]) => {
    const re = regexFor('regex.match', expectString('regex.match', 1, p as Value));
    re.lastIndex = 0;
    return re.test(expectString('regex.match', 2, v as Value));
  },
});

registerValidity('regex.is_valid', (s) => compileRE2(s));

register({
  name: 'regex.split',
  sig: { args: [S, S], result: T.array(S) },
  fn: ([p, v]) => {
    const pattern = expectString('regex.split', 1, p as Value);
    return splitRE2(regexFor('regex.split', pattern), pattern, expectString('regex.split', 2, v as Value), -1);
  },
});

register({
  name: 'regex.replace',
  sig: { args: [S, S, S], result: S },
  fn: ([s, p, r]) => {
    const text = expectString('regex.replace', 1, s as Value);
    const re = regexFor('regex.replace', expectString('regex.replace', 2, p as Value));
    return replaceAllRE2(re, text, expectString('regex.replace', 3, r as Value));
  },
});

register({
  name: 'regex.find_n',
  sig: { args: [S, S, T.number], result: T.array(S) },
  fn: ([p, v, n]) => {
    const re = regexFor('regex.find_n', expectString('regex.find_n', 1, p as Value));
    return findAll(re, expectString('regex.find_n', 2, v as Value), expectInt('regex.find_n', 3, n as Value)).map((m) => m[0]);
  },
});

register({
  name: 'regex.find_all_string_submatch_n',
  sig: { args: [S, S, T.number], result: T.array(T.array(S)) },
  fn: ([p, v, n]) => {
    const name = 'regex.find_all_string_submatch_n';
    const re = regexFor(name, expectString(name, 1, p as Value));
    return findAll(re, expectString(name, 2, v as Value), expectInt(name, 3, n as Value)).map((m) => [...m].map((g) => g ?? ''));
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
    const re = regexFor(name, pattern);
    re.lastIndex = 0;
    return re.test(value);
  },
});

register({
  name: 'regex.globs_match',
  sig: { args: [S, S], result: T.boolean },
  fn: ([a, b]) => globsIntersect(expectString('regex.globs_match', 1, a as Value), expectString('regex.globs_match', 2, b as Value)),
});
