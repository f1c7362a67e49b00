// RE2 (Go regexp) patterns translated to JavaScript RegExp with the `u` flag, plus Go's match-iteration rules
// (FindAll / Split / ReplaceAll) so results match OPA's. Constructs RE2 accepts but JS cannot express with the same
// meaning are rejected with a clear message rather than silently changing meaning.
import { BuiltinError } from './registry.ts';

export class RegexSyntaxError extends Error {
  constructor(message: string) {
    super(`error parsing regexp: ${message}`);
    this.name = 'RegexSyntaxError';
  }
}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const GO_SPACE_CLASS = '\\t\\n\\f\\r ';
const JS_SYNTAX = new Set([...'^$\\.*+?()[]{}|/']);

const hexEscape = (ch: string): string => `\\u{${(ch.codePointAt(0) as number).toString(16)}}`;

/** `\p{Greek}` in Go is a script; JS wants `Script=Greek` unless the name is a general category. */
function unicodeClass(name: string, negated: boolean): string {
  const body = /^[A-Z][a-z]?$/.test(name) || name === 'Any' ? name : `Script=${name}`;
  return `\\${negated ? 'P' : 'p'}{${body}}`;
}

interface Escape {
  out: string;
  next: number;
}

/** One backslash escape at `i` (pointing at the backslash); `inClass` changes \s and anchors. */
function translateEscape(src: string, i: number, inClass: boolean): Escape {
  const c = src[i + 1];
  if (c === undefined) throw new RegexSyntaxError('trailing backslash at end of expression: ``');
  switch (c) {
    case 'd':
    case 'D':
    case 'w':
    case 'W':
    case 'n':
    case 't':
    case 'r':
    case 'f':
    case 'v':
      return { out: `\\${c}`, next: i + 2 };
    case 'a':
      return { out: '\\x07', next: i + 2 };
    case 's':
      return { out: inClass ? GO_SPACE_CLASS : `[${GO_SPACE_CLASS}]`, next: i + 2 };
    case 'S':
      if (inClass) throw new RegexSyntaxError('\\S inside a character class is not supported here');
      return { out: `[^${GO_SPACE_CLASS}]`, next: i + 2 };
    case 'b':
    case 'B':
      if (inClass) throw new RegexSyntaxError(`invalid escape sequence: \`\\${c}\``);
      return { out: `\\${c}`, next: i + 2 };
    case 'A':
      if (inClass) throw new RegexSyntaxError('invalid escape sequence: `\\A`');
      return { out: '(?<![\\s\\S])', next: i + 2 };
    case 'z':
      if (inClass) throw new RegexSyntaxError('invalid escape sequence: `\\z`');
      return { out: '(?![\\s\\S])', next: i + 2 };
    case 'x': {
      if (src[i + 2] === '{') {
        const end = src.indexOf('}', i + 3);
        const hex = src.slice(i + 3, end);
        if (end < 0 || !/^[0-9a-fA-F]{1,6}$/.test(hex)) throw new RegexSyntaxError('invalid escape sequence: `\\x{`');
        return { out: `\\u{${hex}}`, next: end + 1 };
      }
      const hex = src.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new RegexSyntaxError(`invalid escape sequence: \`\\x${hex}\``);
      return { out: `\\x${hex}`, next: i + 4 };
    }
    case 'p':
    case 'P': {
      if (src[i + 2] === '{') {
        const end = src.indexOf('}', i + 3);
        if (end < 0) throw new RegexSyntaxError('invalid character class range: `\\p{`');
        let name = src.slice(i + 3, end);
        let neg = c === 'P';
        if (name.startsWith('^')) {
          name = name.slice(1);
          neg = !neg;
        }
        return { out: unicodeClass(name, neg), next: end + 1 };
      }
      const name = src[i + 2];
      if (name === undefined) throw new RegexSyntaxError('invalid character class range: `\\p`');
      return { out: unicodeClass(name, c === 'P'), next: i + 3 };
    }
    case 'Q': {
      const end = src.indexOf('\\E', i + 2);
      const lit = src.slice(i + 2, end < 0 ? src.length : end);
      return { out: [...lit].map((ch) => (inClass || JS_SYNTAX.has(ch) || ch === '-' ? hexEscape(ch) : ch)).join(''), next: end < 0 ? src.length : end + 2 };
    }
  }
  if (/[0-7]/.test(c)) {
    const m = /^[0-7]{1,3}/.exec(src.slice(i + 1)) as RegExpExecArray;
    // Go reads \0, \0N and three-digit octal; \1..\9 would be a backreference, which RE2 refuses
    if (c !== '0' && m[0].length < 3) throw new RegexSyntaxError(`invalid escape sequence: \`\\${c}\``);
    return { out: `\\u{${parseInt(m[0], 8).toString(16)}}`, next: i + 1 + m[0].length };
  }
  if (/[!-\/:-@\[-`{-~]/.test(c)) return { out: hexEscape(c), next: i + 2 };
  throw new RegexSyntaxError(`invalid escape sequence: \`\\${c}\``);
}

export interface Translated {
  source: string;
  flags: string;
}

/** RE2 syntax → JS source + flags (always `u`). */
export function translateRE2(pattern: string): Translated {
  let flags = 'u';
  let i = 0;
  let dotAll = false;
  // leading (?flags) applies to the whole pattern, which JS can express as RegExp flags
  const lead = /^\(\?([imsU]+)\)/.exec(pattern);
  if (lead) {
    const f = lead[1] as string;
    if (f.includes('U')) throw new RegexSyntaxError('the ungreedy flag (?U) is not supported');
    if (f.includes('i')) flags += 'i';
    if (f.includes('m')) flags += 'm';
    if (f.includes('s')) dotAll = true;
    i = lead[0].length;
  }
  let out = '';
  while (i < pattern.length) {
    const ch = pattern[i] as string;
    if (ch === '\\') {
      const e = translateEscape(pattern, i, false);
      out += e.out;
      i = e.next;
    } else if (ch === '[') {
      i = translateClass(pattern, i, (s) => (out += s));
    } else if (ch === '(') {
      if (pattern[i + 1] === '?') {
        const rest = pattern.slice(i + 2);
        const named = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
        if (named) {
          out += `(?<${named[1]}>`;
          i += 2 + named[0].length;
        } else if (rest.startsWith(':')) {
          out += '(?:';
          i += 3;
        } else if (/^[imsU-]+[:)]/.test(rest)) {
          throw new RegexSyntaxError(`flag groups are supported only at the start of the pattern: \`(?${rest.slice(0, rest.search(/[:)]/) + 1)}\``);
        } else {
          throw new RegexSyntaxError(`invalid or unsupported Perl syntax: \`(?${rest.slice(0, 1)}\``);
        }
      } else {
        out += '(';
        i++;
      }
    } else if (ch === '{') {
      const rep = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (rep && out !== '' && !/[(|]$/.test(out)) {
        const lo = Number(rep[1]);
        const hi = rep[3] ? Number(rep[3]) : lo;
        if (lo > 1000 || hi > 1000 || (rep[3] && hi < lo)) throw new RegexSyntaxError(`invalid repeat count: \`${rep[0]}\``);
        out += rep[0];
        i += rep[0].length;
      } else {
        out += '\\{';
        i++;
      }
    } else if (ch === '}') {
      out += '\\}';
      i++;
    } else if (ch === '.') {
      out += dotAll ? '[\\s\\S]' : '[^\\n]';
      i++;
    } else {
      out += ch;
      i++;
    }
  }
  return { source: out, flags };
}

function translateClass(src: string, start: number, emit: (s: string) => void): number {
  let i = start + 1;
  let out = '[';
  if (src[i] === '^') {
    out += '^';
    i++;
  }
  let first = true;
  while (i < src.length) {
    const ch = src[i] as string;
    if (ch === ']' && !first) {
      emit(`${out}]`);
      return i + 1;
    }
    first = false;
    if (ch === '[' && src[i + 1] === ':') {
      const end = src.indexOf(':]', i + 2);
      const name = end < 0 ? '' : src.slice(i + 2, end);
      const ranges = POSIX[name];
      if (ranges === undefined) throw new RegexSyntaxError(`invalid character class range: \`${src.slice(i, end + 2)}\``);
      out += ranges;
      i = end + 2;
    } else if (ch === '\\') {
      const e = translateEscape(src, i, true);
      out += e.out;
      i = e.next;
    } else if (ch === '[' || ch === ']' || ch === '/') {
      out += hexEscape(ch);
      i++;
    } else {
      out += ch;
      i += ch.length;
    }
  }
  throw new RegexSyntaxError(`missing closing ]: \`${src.slice(start)}\``);
}

const CACHE = new Map<string, RegExp>();
const CACHE_LIMIT = 1000;

/** A global (`g`) JS RegExp for an RE2 pattern; throws RegexSyntaxError for invalid or unsupported patterns. */
export function compileRE2(pattern: string): RegExp {
  const hit = CACHE.get(pattern);
  if (hit) return hit;
  const { source, flags } = translateRE2(pattern);
  let re: RegExp;
  try {
    re = new RegExp(source, `${flags}g`);
  } catch (e) {
    throw new RegexSyntaxError(`${(e as Error).message.replace(/^Invalid regular expression: /, '')}: \`${pattern}\``);
  }
  if (CACHE.size >= CACHE_LIMIT) CACHE.clear();
  CACHE.set(pattern, re);
  return re;
}

/** compileRE2 reporting syntax errors as the builtin's error. */
export function regexFor(builtin: string, pattern: string): RegExp {
  try {
    return compileRE2(pattern);
  } catch (e) {
    if (e instanceof RegexSyntaxError) throw new BuiltinError(builtin, e.message);
    throw e;
  }
}

/** Match at or after `pos`, with the whole string as context (so `^` stays anchored at 0). */
function execAt(re: RegExp, s: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(s);
}

const runeWidth = (s: string, pos: number): number => ((s.codePointAt(pos) ?? 0) > 0xffff ? 2 : 1);

/** Go's Regexp.allMatches: up to n matches (n < 0: all), no empty match right after a previous match. */
export function findAll(re: RegExp, s: string, n: number): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  if (n < 0) n = s.length + 1;
  let prevEnd = -1;
  for (let pos = 0; out.length < n && pos <= s.length; ) {
    const m = execAt(re, s, pos);
    if (!m) break;
    const end = m.index + m[0].length;
    let accept = true;
    if (end === pos) {
      if (m.index === prevEnd) accept = false;
      pos += pos < s.length ? runeWidth(s, pos) : 1;
    } else {
      pos = end;
    }
    prevEnd = end;
    if (accept) out.push(m);
  }
  return out;
}

/** Go's Regexp.Split(s, n). */
export function splitRE2(re: RegExp, pattern: string, s: string, n: number): string[] {
  if (n === 0) return [];
  if (pattern.length > 0 && s.length === 0) return [''];
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of findAll(re, s, n)) {
    if (n > 0 && out.length === n - 1) break;
    end = m.index;
    const mEnd = m.index + m[0].length;
    if (mEnd !== 0) out.push(s.slice(beg, end));
    beg = mEnd;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

/** Go's Regexp.Expand for a `$1` / `${name}` template (a name is the longest run of [A-Za-z0-9_]). */
function expand(template: string, m: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i] as string;
    if (ch !== '$') {
      out += ch;
      continue;
    }
    if (template[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string | undefined;
    let next = i + 1;
    if (template[i + 1] === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (/^[A-Za-z0-9_]+$/.test(inner)) {
        name = inner;
        next = close + 1;
      }
    } else {
      const run = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (run) {
        name = run[0];
        next = i + 1 + run[0].length;
      }
    }
    if (name === undefined) {
      out += '$';
      continue;
    }
    if (/^\d+$/.test(name)) out += m[Number(name)] ?? '';
    else out += m.groups?.[name] ?? '';
    i = next - 1;
  }
  return out;
}

/** Go's Regexp.ReplaceAllString. */
export function replaceAllRE2(re: RegExp, s: string, template: string): string {
  let out = '';
  let lastEnd = 0;
  let searchPos = 0;
  while (searchPos <= s.length) {
    const m = execAt(re, s, searchPos);
    if (!m) break;
    const mEnd = m.index + m[0].length;
    out += s.slice(lastEnd, m.index);
    // no replacement for an empty match right after another match
    if (mEnd > lastEnd || m.index === 0) out += expand(template, m);
    lastEnd = mEnd;
    const width = searchPos < s.length ? runeWidth(s, searchPos) : 1;
    if (searchPos + width > mEnd) searchPos += width;
    else if (searchPos + 1 > mEnd) searchPos++;
    else searchPos = mEnd;
  }
  return out + s.slice(lastEnd);
}

/** Go's regexp.QuoteMeta. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
