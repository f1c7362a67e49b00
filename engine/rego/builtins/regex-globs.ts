// regex.globs_match: do two restricted regexes (literals, `.`, `[...]` sets, `*` and `+`) share any matching
// string? Both become token lists and we search the product automaton, as OPA's glob-intersection library decides it.
import { BuiltinError } from './registry.ts';

interface Token {
  /** Characters this token matches: a predicate over one code point. */
  match: (ch: string) => boolean;
  /** Sample characters that can satisfy the token, used to decide if two tokens overlap. */
  sample: string[];
  any: boolean;
  negated: boolean;
  star: boolean;
}

function invalid(pattern: string, pos: number, what: string): BuiltinError {
  return new BuiltinError('regex.globs_match', `input:${pattern}, pos:${pos}, ${what}: the input provided is invalid`);
}

function parseSet(pattern: string, chars: string[], start: number): { token: Token; next: number } {
  let i = start + 1;
  let negated = false;
  if (chars[i] === '^') {
    negated = true;
    i++;
  }
  const ranges: Array<[string, string]> = [];
  while (i < chars.length && chars[i] !== ']') {
    let c = chars[i] as string;
    if (c === '\\') c = chars[++i] ?? '';
    if (chars[i + 1] === '-' && chars[i + 2] !== undefined && chars[i + 2] !== ']') {
      let hi = chars[i + 2] as string;
      let skip = 3;
      if (hi === '\\') {
        hi = chars[i + 3] ?? '';
        skip = 4;
      }
      ranges.push([c, hi]);
      i += skip;
    } else {
      ranges.push([c, c]);
      i++;
    }
  }
  if (i >= chars.length) throw invalid(pattern, start + 1, "set-open '[' with no closing ']'");
  const inSet = (ch: string): boolean => ranges.some(([lo, hi]) => ch >= lo && ch <= hi);
  return {
    token: {
      match: negated ? (ch) => !inSet(ch) : inSet,
      sample: ranges.flatMap(([lo, hi]) => [lo, hi]),
      any: false,
      negated,
      star: false,
    },
    next: i + 1,
  };
}

function tokenize(pattern: string): Token[] {
  const chars = [...pattern];
  const out: Token[] = [];
  for (let i = 0; i < chars.length; ) {
    const c = chars[i] as string;
    if (c === '*' || c === '+') {
      const prev = out[out.length - 1];
      if (!prev || prev.star) throw invalid(pattern, i + 1, `quantifier '${c}' with no preceding token`);
      if (c === '*') prev.star = true;
      else out.push({ ...prev, star: true });
      i++;
    } else if (c === '[') {
      const { token, next } = parseSet(pattern, chars, i);
      out.push(token);
      i = next;
    } else if (c === ']') {
      throw invalid(pattern, i + 1, "set-close ']' with no preceding '['");
    } else if (c === '.') {
      out.push({ match: () => true, sample: [], any: true, negated: false, star: false });
      i++;
    } else {
      const lit = c === '\\' ? (chars[i + 1] ?? '\\') : c;
      out.push({ match: (ch) => ch === lit, sample: [lit], any: false, negated: false, star: false });
      i += c === '\\' ? 2 : 1;
    }
  }
  return out;
}

/** Can one character satisfy both tokens? */
function overlaps(a: Token, b: Token): boolean {
  if (a.any || b.any) return true;
  if (a.negated && b.negated) return true;
  if (!a.negated && a.sample.some((ch) => b.match(ch))) return true;
  if (!b.negated && b.sample.some((ch) => a.match(ch))) return true;
  // two positive ranges may overlap without sharing an endpoint sample only if one contains the other's endpoint
  return false;
}

export function globsIntersect(p1: string, p2: string): boolean {
  const a = tokenize(p1);
  const b = tokenize(p2);
  const seen = new Set<string>();
  const stack: Array<[number, number]> = [[0, 0]];
  while (stack.length) {
    const [i, j] = stack.pop() as [number, number];
    const key = `${i},${j}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (i === a.length && j === b.length) return true;
    const ta = a[i];
    const tb = b[j];
    if (ta?.star) stack.push([i + 1, j]);
    if (tb?.star) stack.push([i, j + 1]);
    if (ta && tb && overlaps(ta, tb)) stack.push([ta.star ? i : i + 1, tb.star ? j : j + 1]);
  }
  return false;
}
