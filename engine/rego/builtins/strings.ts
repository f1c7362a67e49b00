// Builtins: concat, contains, startswith, endswith, format_int, indexof, indexof_n, lower, upper, replace, split, sprintf, substring, trim*, strings.*
// Positions and lengths count Unicode code points (Go runes), as OPA does; Go's strings package semantics otherwise.
import type { Value } from '../value.ts';
import { toDouble } from '../value.ts';
import { BuiltinError, T, checkDeadline, checkStringLength, expectArray, expectNumber, expectObject, expectString, register, type BuiltinContext } from './registry.ts';
import { goSprintf } from './strings-format.ts';
import { OperandMessageError, expectInt, expectStringOrStrings, expectStringsOf } from './strings-operands.ts';

const S = T.string;
const stringsOf = T.union(T.array(T.string), T.set(T.string));

register({
  name: 'concat',
  sig: { args: [S, stringsOf], result: S },
  fn: ([d, c]) => {
    const parts = expectStringsOf('concat', 2, c as Value);
    const delim = expectString('concat', 1, d as Value);
    checkStringLength('concat', parts.reduce((n, p) => n + p.length, 0) + Math.max(0, parts.length - 1) * delim.length);
    return parts.join(delim);
  },
});

function stringPredicate(name: string, test: (a: string, b: string) => boolean): void {
  register({
    name,
    sig: { args: [S, S], result: T.boolean },
    fn: ([a, b]) => test(expectString(name, 1, a as Value), expectString(name, 2, b as Value)),
  });
}
stringPredicate('contains', (a, b) => a.includes(b));
stringPredicate('startswith', (a, b) => a.startsWith(b));
stringPredicate('endswith', (a, b) => a.endsWith(b));

const BASES: Record<number, number> = { 2: 2, 8: 8, 10: 10, 16: 16 };
register({
  name: 'format_int',
  sig: { args: [T.number, T.number], result: S },
  fn: ([n, b]) => {
    const num = expectNumber('format_int', 1, n as Value);
    const base = BASES[toDouble(expectNumber('format_int', 2, b as Value))];
    if (base === undefined) throw new OperandMessageError('format_int', 'operand 2 must be one of {2, 8, 10, 16}');
    // Go truncates toward zero (big.Float.Int)
    const int = typeof num === 'bigint' ? num : BigInt(Math.trunc(num));
    return int.toString(base);
  },
});

/** builtinIndexOf / builtinIndexOfN refuse an empty needle (topdown/strings.go: "empty search character"). */
function nonEmptyNeedle(name: string, v: Value): string {
  const s = expectString(name, 2, v);
  if (s === '') throw new BuiltinError(name, 'empty search character');
  return s;
}

/** Code-point index of `needle` in `hay` at or after code point `from`, or -1. */
function runeIndex(hay: string[], needle: string[], from: number): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

register({
  name: 'indexof',
  sig: { args: [S, S], result: T.number },
  fn: ([a, b]) => {
    const hay = expectString('indexof', 1, a as Value);
    return runeIndex([...hay], [...nonEmptyNeedle('indexof', b as Value)], 0);
  },
});

register({
  name: 'indexof_n',
  sig: { args: [S, S], result: T.array(T.number) },
  fn: ([a, b]) => {
    const hay = [...expectString('indexof_n', 1, a as Value)];
    const needle = [...nonEmptyNeedle('indexof_n', b as Value)];
    const out: Value[] = [];
    for (let i = runeIndex(hay, needle, 0); i >= 0 && i < hay.length; i = runeIndex(hay, needle, i + 1)) out.push(i);
    return out;
  },
});

function stringMap(name: string, f: (s: string) => string): void {
  register({ name, sig: { args: [S], result: S }, fn: ([a]) => f(expectString(name, 1, a as Value)) });
}
// Go's strings.ToLower/ToUpper map each rune alone (unicode.ToLower/ToUpper, simple case mapping): `ß` stays `ß`,
// `Σ` is always `σ`. JS maps whole strings with special casing, so map code point by code point and keep a rune
// whose JS mapping is not a single rune (İ is Go's one special lower case: `i`).
function mapRunes(s: string, f: (c: string) => string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) { ascii = false; break; }
  if (ascii) return f(s);
  let out = '';
  for (const c of s) {
    const m = f(c);
    out += [...m].length === 1 ? m : c === '\u0130' ? 'i' : c;
  }
  return out;
}
stringMap('lower', (s) => mapRunes(s, (c) => c.toLowerCase()));
stringMap('upper', (s) => mapRunes(s, upperRune));

/** One rune upper-cased with Unicode's simple mapping: JS gives the full one, which differs for Greek with iota. */
function upperRune(c: string): string {
  const cp = c.codePointAt(0) as number;
  // ᾀ..ᾧ → ᾈ..ᾯ, ᾳ → ᾼ, ῃ → ῌ, ῳ → ῼ (their full mappings are two letters, e.g. ἈΙ)
  if (cp >= 0x1f80 && cp <= 0x1faf && (cp & 0xf) < 8) return String.fromCodePoint(cp + 8);
  if (cp === 0x1fb3 || cp === 0x1fc3 || cp === 0x1ff3) return String.fromCodePoint(cp + 9);
  return c.toUpperCase();
}
stringMap('strings.reverse', (s) => [...s].reverse().join(''));

/** Length of `text` with every `old` replaced by `repl`, computed before building it (an empty `old` matches between every character). */
function replacedLength(text: string, old: string, repl: string): number {
  if (repl.length <= old.length) return text.length;
  let count = 0;
  if (old === '') count = text.length + 1;
  else for (let i = text.indexOf(old); i >= 0; i = text.indexOf(old, i + old.length)) count++;
  return text.length + count * (repl.length - old.length);
}

register({
  name: 'replace',
  sig: { args: [S, S, S], result: S },
  fn: ([s, o, n]) => {
    const text = expectString('replace', 1, s as Value);
    const old = expectString('replace', 2, o as Value);
    const repl = expectString('replace', 3, n as Value);
    checkStringLength('replace', replacedLength(text, old, repl));
    return text.replaceAll(old, repl);
  },
});

register({
  name: 'split',
  sig: { args: [S, S], result: T.array(S) },
  fn: ([s, d]) => {
    const text = expectString('split', 1, s as Value);
    const delim = expectString('split', 2, d as Value);
    return delim === '' ? [...text] : text.split(delim);
  },
});

register({
  name: 'sprintf',
  sig: { args: [S, T.array(T.any)], result: S },
  fn: ([f, vals]) => goSprintf(expectString('sprintf', 1, f as Value), expectArray('sprintf', 2, vals as Value)),
});

register({
  name: 'substring',
  sig: { args: [S, T.number, T.number], result: S },
  fn: ([s, o, l]) => {
    const runes = [...expectString('substring', 1, s as Value)];
    const offset = expectInt('substring', 2, o as Value);
    const length = expectInt('substring', 3, l as Value);
    if (offset < 0) throw new BuiltinError('substring', 'negative offset');
    if (offset >= runes.length) return '';
    return (length < 0 ? runes.slice(offset) : runes.slice(offset, offset + length)).join('');
  },
});

function trimmer(name: string, f: (s: string, arg: string) => string): void {
  register({
    name,
    sig: { args: [S, S], result: S },
    fn: ([s, c]) => f(expectString(name, 1, s as Value), expectString(name, 2, c as Value)),
  });
}
const trimLeft = (s: string, cut: Set<string>): string => {
  const r = [...s];
  let i = 0;
  while (i < r.length && cut.has(r[i] as string)) i++;
  return r.slice(i).join('');
};
const trimRight = (s: string, cut: Set<string>): string => {
  const r = [...s];
  let j = r.length;
  while (j > 0 && cut.has(r[j - 1] as string)) j--;
  return r.slice(0, j).join('');
};
trimmer('trim', (s, c) => trimRight(trimLeft(s, new Set(c)), new Set(c)));
trimmer('trim_left', (s, c) => trimLeft(s, new Set(c)));
trimmer('trim_right', (s, c) => trimRight(s, new Set(c)));
trimmer('trim_prefix', (s, p) => (s.startsWith(p) ? s.slice(p.length) : s));
trimmer('trim_suffix', (s, p) => (p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s));

// Go's unicode.IsSpace: ASCII white space, U+0085, U+00A0 and the Unicode Zs/Zl/Zp categories (not U+FEFF as in JS)
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
stringMap('trim_space', (s) => s.replace(GO_SPACE, ''));

register({
  name: 'strings.replace_n',
  sig: { args: [T.object(S, S), S], result: S },
  fn: ([p, s], ctx) => {
    const patterns = expectObject('strings.replace_n', 1, p as Value);
    const text = expectString('strings.replace_n', 2, s as Value);
    const pairs: Array<[string, string]> = [];
    for (const [k, v] of patterns.sortedEntries()) {
      if (typeof k !== 'string') throw new OperandMessageError('strings.replace_n', 'operand 1 non-string key found in pattern object');
      if (typeof v !== 'string') throw new OperandMessageError('strings.replace_n', 'operand 1 non-string value found in pattern object');
      pairs.push([k, v]);
    }
    return replaceAllPairs(text, pairs, ctx);
  },
});

/** Go's strings.NewReplacer: left to right, no overlaps, earlier pairs (sorted keys) win at the same position. */
function replaceAllPairs(text: string, pairs: Array<[string, string]>, ctx?: BuiltinContext): string {
  let out = '';
  let i = 0;
  while (i <= text.length) {
    if ((i & 0xff) === 0) {
      checkDeadline('strings.replace_n', ctx);
      checkStringLength('strings.replace_n', out.length);
    }
    let matched = false;
    for (const [old, repl] of pairs) {
      if (old === '' ? true : text.startsWith(old, i)) {
        out += repl;
        if (old === '') {
          if (i < text.length) out += text[i];
          i++;
        } else i += old.length;
        matched = true;
        break;
      }
    }
    if (!matched) {
      if (i < text.length) out += text[i];
      i++;
    }
  }
  return out;
}

register({
  name: 'strings.count',
  sig: { args: [S, S], result: T.number },
  fn: ([s, sub]) => {
    const text = expectString('strings.count', 1, s as Value);
    const needle = expectString('strings.count', 2, sub as Value);
    if (needle === '') return [...text].length + 1;
    let n = 0;
    for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
    return n;
  },
});

function anyMatch(name: string, test: (s: string, affix: string) => boolean): void {
  const arg = T.union(S, T.array(S), T.set(S));
  register({
    name,
    sig: { args: [arg, arg], result: T.boolean },
    fn: ([a, b]) => {
      const xs = expectStringOrStrings(name, 1, a as Value);
      const affixes = expectStringOrStrings(name, 2, b as Value);
      return xs.some((x) => affixes.some((p) => test(x, p)));
    },
  });
}
anyMatch('strings.any_prefix_match', (s, p) => s.startsWith(p));
anyMatch('strings.any_suffix_match', (s, p) => s.endsWith(p));
