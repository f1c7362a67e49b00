// Builtins: glob.match, glob.quote_meta
// Glob syntax as OPA's gobwas/glob: `*` (within separators), `**` (across), `?`, `[abc]`, `[!a-z]`, `{a,b}`, `\x`.
// A glob becomes an RE2 pattern matched by re2js, so matching is linear in the input (no backtracking on `*a*a*a…`).
import { RE2JS } from 're2js';
import type { Value } from '../value.ts';
import { BuiltinError, OperandTypeError, T, expectString, register } from './registry.ts';
import { elementError } from './strings-operands.ts';

const escapeClassChar = (ch: string): string => `\\x{${(ch.codePointAt(0) as number).toString(16)}}`;

/** A glob pattern as an anchored RE2 pattern; `seps` are the delimiter characters. */
export function globToRE2(pattern: string, seps: string[]): string {
  const chars = [...pattern];
  const notSep = seps.length ? `[^${seps.map(escapeClassChar).join('')}]` : '(?s:.)';
  let i = 0;
  let depth = 0;
  const fail = (msg: string): never => {
    throw new BuiltinError('glob.match', msg);
  };
  let out = '';
  while (i < chars.length) {
    const c = chars[i] as string;
    if (c === '*') {
      if (chars[i + 1] === '*') {
        out += '(?s:.)*';
        i += 2;
      } else {
        out += `${notSep}*`;
        i++;
      }
    } else if (c === '?') {
      out += notSep;
      i++;
    } else if (c === '[') {
      let j = i + 1;
      let body = '';
      if (chars[j] === '!') {
        body = '^';
        j++;
      }
      let items = 0;
      while (j < chars.length && chars[j] !== ']') {
        const lo = chars[j] as string;
        if (chars[j + 1] === '-' && chars[j + 2] !== undefined && chars[j + 2] !== ']') {
          body += `${escapeClassChar(lo)}-${escapeClassChar(chars[j + 2] as string)}`;
          j += 3;
        } else {
          body += escapeClassChar(lo);
          j++;
        }
        items++;
      }
      if (j >= chars.length || items === 0) fail(`unexpected end of input in character range of ${JSON.stringify(pattern)}`);
      out += `[${body}]`;
      i = j + 1;
    } else if (c === '{') {
      depth++;
      out += '(?:';
      i++;
    } else if (c === '}' && depth > 0) {
      depth--;
      out += ')';
      i++;
    } else if (c === ',' && depth > 0) {
      out += '|';
      i++;
    } else if (c === '\\') {
      if (i + 1 >= chars.length) fail(`unexpected end of input after escape in ${JSON.stringify(pattern)}`);
      out += escapeClassChar(chars[i + 1] as string);
      i += 2;
    } else {
      out += escapeClassChar(c);
      i++;
    }
  }
  if (depth > 0) fail(`unclosed alternatives in ${JSON.stringify(pattern)}`);
  return `^${out}$`;
}

const CACHE = new Map<string, RE2JS>();

register({
  name: 'glob.match',
  sig: { args: [T.string, T.union(T.array(T.string), T.null), T.string], result: T.boolean },
  fn: ([p, d, m]) => {
    const pattern = expectString('glob.match', 1, p as Value);
    let seps: string[];
    if (d === null) seps = [];
    else if (Array.isArray(d)) {
      seps = d.map((x) => {
        if (typeof x !== 'string') throw elementError('glob.match', 2, d, x, 'string');
        return [...x][0] ?? '';
      });
      seps = seps.filter((s) => s !== '');
      if (seps.length === 0) seps = ['.'];
    } else throw new OperandTypeError('glob.match', 2, 'one of {array, null}', d as Value);
    const match = expectString('glob.match', 3, m as Value);
    const key = `${seps.join('')}\u0000${pattern}`;
    let re = CACHE.get(key);
    if (!re) {
      re = RE2JS.compile(globToRE2(pattern, seps));
      if (CACHE.size > 1000) CACHE.clear();
      CACHE.set(key, re);
    }
    return re.test(match);
  },
});

register({
  name: 'glob.quote_meta',
  sig: { args: [T.string], result: T.string },
  fn: ([p]) => expectString('glob.quote_meta', 1, p as Value).replace(/[*?\\[\]{}]/g, '\\$&'),
});
