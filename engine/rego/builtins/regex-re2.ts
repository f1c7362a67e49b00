// RE2 (Go regexp) patterns for the regex.* builtins, matched by re2js (a port of RE2/J, itself a port of Go's
// regexp): Go's syntax and error messages, and matching in time linear in the input whatever the pattern, so a hostile
// string cannot stall a policy. Go's match-iteration rules (FindAll / Split / ReplaceAll) are replayed here so results
// match OPA's.
import { RE2JS, RE2JSSyntaxException, type Matcher } from 're2js';
import { BuiltinError, checkDeadline, checkStringLength, type BuiltinContext } from './registry.ts';

export class RegexSyntaxError extends Error {
  constructor(message: string) {
    super(`error parsing regexp: ${message}`);
    this.name = 'RegexSyntaxError';
  }
}

const CACHE = new Map<string, RE2JS>();
const CACHE_LIMIT = 1000;

/** A compiled RE2 pattern (cached: compiling costs far more than matching); throws RegexSyntaxError as Go words it. */
export function compileRE2(pattern: string): RE2JS {
  const hit = CACHE.get(pattern);
  if (hit) return hit;
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    if (e instanceof RE2JSSyntaxException) throw new RegexSyntaxError(e.message.replace(/^error parsing regexp: /, ''));
    throw e;
  }
  if (CACHE.size >= CACHE_LIMIT) CACHE.clear();
  CACHE.set(pattern, re);
  return re;
}

/** compileRE2 reporting syntax errors as the builtin's error. */
export function regexFor(builtin: string, pattern: string): RE2JS {
  try {
    return compileRE2(pattern);
  } catch (e) {
    if (e instanceof RegexSyntaxError) throw new BuiltinError(builtin, e.message);
    throw e;
  }
}

/** One match: its span in UTF-16 units and its groups (undefined for a group that did not take part). */
export interface RE2Match {
  index: number;
  end: number;
  groups: Array<string | undefined>;
  matcher: Matcher;
}

function matchOf(m: Matcher): RE2Match {
  const groups: Array<string | undefined> = [];
  for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g) ?? undefined);
  return { index: m.start(), end: m.end(), groups, matcher: m };
}

/** Does the pattern match anywhere in `s` (Go's MatchString)? */
export function testRE2(re: RE2JS, s: string): boolean {
  return re.test(s);
}

const runeWidth = (s: string, pos: number): number => ((s.codePointAt(pos) ?? 0) > 0xffff ? 2 : 1);

/**
 * Go's Regexp.allMatches: up to n matches (n < 0: all), no empty match right after a previous match. Each search
 * starts at `pos` with the whole string as context, so `^` stays anchored at 0.
 */
export function findAll(builtin: string, re: RE2JS, s: string, n: number, ctx?: BuiltinContext): RE2Match[] {
  const out: RE2Match[] = [];
  if (n < 0) n = s.length + 1;
  const m = re.matcher(s);
  let prevEnd = -1;
  for (let pos = 0; out.length < n && pos <= s.length; ) {
    if ((out.length & 0xff) === 0xff) checkDeadline(builtin, ctx);
    if (!m.find(pos)) break;
    const match = matchOf(m);
    let accept = true;
    if (match.end === pos) {
      if (match.index === prevEnd) accept = false;
      pos += pos < s.length ? runeWidth(s, pos) : 1;
    } else {
      pos = match.end;
    }
    prevEnd = match.end;
    if (accept) out.push(match);
  }
  return out;
}

/** Go's Regexp.Split(s, n). */
export function splitRE2(builtin: string, re: RE2JS, pattern: string, s: string, n: number, ctx?: BuiltinContext): string[] {
  if (n === 0) return [];
  if (pattern.length > 0 && s.length === 0) return [''];
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of findAll(builtin, re, s, n, ctx)) {
    if (n > 0 && out.length === n - 1) break;
    end = m.index;
    if (m.end !== 0) out.push(s.slice(beg, end));
    beg = m.end;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

/** Go's Regexp.Expand for a `$1` / `${name}` template (a name is the longest run of [A-Za-z0-9_]). */
function expand(template: string, m: RE2Match): string {
  if (!template.includes('$')) return template;
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
    if (/^\d+$/.test(name)) out += m.groups[Number(name)] ?? '';
    else out += namedGroup(m, name);
    i = next - 1;
  }
  return out;
}

function namedGroup(m: RE2Match, name: string): string {
  try {
    return m.matcher.group(name) ?? '';
  } catch {
    return ''; // no group of that name: Go expands to the empty string
  }
}

/** Go's Regexp.ReplaceAllString; the result is bounded like every builtin's output. */
export function replaceAllRE2(builtin: string, re: RE2JS, s: string, template: string, ctx?: BuiltinContext): string {
  let out = '';
  let lastEnd = 0;
  let searchPos = 0;
  const matcher = re.matcher(s);
  let count = 0;
  while (searchPos <= s.length) {
    if ((++count & 0xff) === 0) checkDeadline(builtin, ctx);
    if (!matcher.find(searchPos)) break;
    const m = matchOf(matcher);
    out += s.slice(lastEnd, m.index);
    // no replacement for an empty match right after another match
    if (m.end > lastEnd || m.index === 0) out += expand(template, m);
    checkStringLength(builtin, out.length);
    lastEnd = m.end;
    const width = searchPos < s.length ? runeWidth(s, searchPos) : 1;
    if (searchPos + width > m.end) searchPos += width;
    else if (searchPos + 1 > m.end) searchPos++;
    else searchPos = m.end;
  }
  return out + s.slice(lastEnd);
}

/** Go's regexp.QuoteMeta. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
