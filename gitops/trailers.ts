// Commit-message trailers read exactly as `git interpret-trailers --parse` reads them (git's trailer.c and
// commit.c `ignore_non_trailer`, default configuration: separator ':', comment character '#'). Audit decides
// which commits must be signed from these trailers, so a line git reads as a trailer must be one here too:
// keys match case-insensitively, spaces may stand before the colon, and the last paragraph is a trailer block
// when all its lines are trailers, or when it holds a git-generated line (`Signed-off-by: `, `(cherry picked
// from commit `) and at least 25% trailers. Written from the documented behaviour and checked against the real
// `git interpret-trailers --parse` in test/gitops/trailers.test.ts.

export interface Trailer {
  /** The key as written (trimmed), e.g. `arbiter-action`. */
  token: string;
  /** The value, continuation lines unfolded, trimmed. */
  value: string;
}

const COMMENT = '#';
const GIT_GENERATED = ['Signed-off-by: ', '(cherry picked from commit '];
const CUT_LINE = `\n${COMMENT} ------------------------ >8 ------------------------\n`;

/** git's isspace (sane_ctype): space, tab, line feed, carriage return; not \v or \f. */
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isAlnum = (c: string): boolean => /^[A-Za-z0-9]$/.test(c);

/** Offset of the next line's start (or the end). */
function nextLine(s: string, from: number): number {
  const nl = s.indexOf('\n', from);
  return nl === -1 ? s.length : nl + 1;
}

/** Start of the last line of `s[0, len)`; -1 when len is 0 (a final '\n' belongs to the last line). */
function lastLine(s: string, len: number): number {
  if (len === 0) return -1;
  if (len === 1) return 0;
  for (let i = len - 2; i >= 0; i--) if (s[i] === '\n') return i + 1;
  return 0;
}

function isBlankLine(s: string, at: number): boolean {
  let i = at;
  while (i < s.length && s[i] !== '\n' && isSpace(s[i])) i++;
  return i >= s.length || s[i] === '\n';
}

/** Position of ':' after a token of [A-Za-z0-9-] and optional blanks, or -1 (git's find_separator). */
export function findSeparator(line: string, from = 0): number {
  let whitespace = false;
  for (let i = from; i < line.length && line[i] !== '\n'; i++) {
    const c = line[i]!;
    if (c === ':') return i - from;
    if (!whitespace && (isAlnum(c) || c === '-')) continue;
    if (i !== from && (c === ' ' || c === '\t')) {
      whitespace = true;
      continue;
    }
    break;
  }
  return -1;
}

/** A patch after the message (`---` and a space character) is not part of it. */
function patchStart(s: string): number {
  for (let at = 0; at < s.length; at = nextLine(s, at)) {
    if (s.startsWith('---', at) && isSpace(s[at + 3])) return at;
  }
  return s.length;
}

/** Length of the message without trailing comments, blank lines, a `Conflicts:` block and what follows a scissors line. */
function withoutNonTrailer(s: string, len: number): number {
  let cutoff = len;
  const scissors = CUT_LINE.slice(1);
  if (s.startsWith(scissors)) cutoff = 0;
  else {
    const at = s.indexOf(CUT_LINE);
    if (at !== -1 && at < len) cutoff = at + 1;
  }
  let boc = 0;
  let inConflicts = false;
  for (let bol = 0; bol < cutoff; ) {
    const nl = s.indexOf('\n', bol);
    const next = nl === -1 || nl >= len ? len : nl + 1;
    if (s[bol] === COMMENT || s[bol] === '\n') {
      if (!boc) boc = bol;
    } else if (s.startsWith('Conflicts:\n', bol)) {
      inConflicts = true;
      if (!boc) boc = bol;
    } else if (inConflicts && s[bol] === '\t') {
      // a path in the conflicts block
    } else if (boc) {
      boc = 0;
      inConflicts = false;
    }
    bol = next;
  }
  return boc ? boc : cutoff;
}

/** Start of the trailer block in `s[0, len)`, or len when there is none (git's find_trailer_start). */
function trailerStart(s: string, len: number): number {
  let endOfTitle = 0;
  for (endOfTitle = 0; endOfTitle < len; endOfTitle = nextLine(s, endOfTitle)) {
    if (s[endOfTitle] === COMMENT) continue;
    if (isBlankLine(s, endOfTitle)) break;
  }
  let onlySpaces = true;
  let recognized = false;
  let trailers = 0;
  let nonTrailers = 0;
  let continuations = 0;
  for (let l = lastLine(s, len); l >= endOfTitle; l = lastLine(s, l)) {
    if (s[l] === COMMENT) {
      nonTrailers += continuations;
      continuations = 0;
      continue;
    }
    if (isBlankLine(s, l)) {
      if (onlySpaces) continue;
      nonTrailers += continuations;
      if (recognized && trailers * 3 >= nonTrailers) return nextLine(s, l);
      if (trailers && !nonTrailers) return nextLine(s, l);
      return len;
    }
    onlySpaces = false;
    if (GIT_GENERATED.some((p) => s.startsWith(p, l))) {
      trailers++;
      continuations = 0;
      recognized = true;
      continue;
    }
    if (findSeparator(s, l) >= 1 && !isSpace(s[l])) {
      trailers++;
      continuations = 0;
    } else if (isSpace(s[l])) continuations++;
    else {
      nonTrailers += 1 + continuations;
      continuations = 0;
    }
    if (l === 0) break;
  }
  return len;
}

function trimGit(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s[a])) a++;
  while (b > a && isSpace(s[b - 1])) b--;
  return s.slice(a, b);
}

/** Every trailer of `message`, in order, as `git interpret-trailers --parse` lists them. */
export function parseTrailerList(raw: string): Trailer[] {
  const nul = raw.indexOf('\0');
  const s = nul === -1 ? raw : raw.slice(0, nul);
  const end = withoutNonTrailer(s, patchStart(s));
  const start = trailerStart(s, end);
  const lines: string[] = [];
  let lastHasSeparator = false;
  for (let at = start; at < end; ) {
    const nl = s.indexOf('\n', at);
    const next = nl === -1 || nl >= end ? end : nl + 1;
    const line = s.slice(at, next);
    if (lastHasSeparator && isSpace(line[0])) lines[lines.length - 1] += line;
    else {
      lines.push(line);
      lastHasSeparator = findSeparator(line) >= 1;
    }
    at = next;
  }
  const out: Trailer[] = [];
  for (const line of lines) {
    if (line[0] === COMMENT) continue;
    const sep = findSeparator(line);
    if (sep < 1) continue;
    const value = trimGit(line.slice(sep + 1).replace(/\n[ \t\n\r]*/g, ' '));
    out.push({ token: trimGit(line.slice(0, sep)), value });
  }
  return out;
}

/** The canonical spelling of the trailers arbiter writes; other keys keep theirs. */
const CANONICAL = new Map(
  [
    'Arbiter-Decision', 'Arbiter-Incident', 'Arbiter-Action', 'Arbiter-Target', 'Arbiter-Mode', 'Arbiter-Support',
    'Arbiter-Idempotency-Key', 'Arbiter-Bundle-Revision', 'Arbiter-Ledger-Entry', 'Arbiter-Ledger-Seq', 'Arbiter-Event',
    'Arbiter-Proposed-Tree', 'Arbiter-Proposed-Base', 'Arbiter-Ledger-Anchor',
  ].map((k) => [k.toLowerCase(), k]),
);

export function canonicalKey(token: string): string {
  return CANONICAL.get(token.toLowerCase()) ?? token;
}

/** True when git reads `token` as an arbiter trailer (any case). */
export function isArbiterKey(token: string): boolean {
  return token.toLowerCase().startsWith('arbiter-');
}

/**
 * The trailers as a record keyed by canonical spelling. A key given twice with different values is ambiguous and
 * listed in `conflicting`; its first value is kept.
 */
export function trailerRecord(message: string): { trailers: Record<string, string>; conflicting: string[] } {
  const trailers: Record<string, string> = {};
  const conflicting = new Set<string>();
  for (const t of parseTrailerList(message)) {
    const key = canonicalKey(t.token);
    if (!(key in trailers)) trailers[key] = t.value;
    else if (trailers[key] !== t.value) conflicting.add(key);
  }
  return { trailers, conflicting: [...conflicting] };
}
