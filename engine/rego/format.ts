// `arbiter fmt`: Rego in OPA's canonical layout (v1/format/format.go), for the layout rules it is built on: tab
// indentation by bracket nesting, OPA's spacing around operators, commas and colons, `:=` for rule values, one blank
// line between rules (adjacent one-line rules stay grouped, as OPA groups them), blank lines inside bodies kept
// (at most one), comments kept where they are, one newline at the end. It reprints the tokens as written (numbers,
// strings, parentheses), so it never changes what a module means; every result is re-parsed and compared with the
// original, and a module whose formatted text would not parse to the same AST is refused, never rewritten.
import { RegoError } from './ast.ts';
import type { Module } from './ast.ts';
import { tokenize } from './lexer.ts';
import type { Token } from './lexer.ts';
import { parseModule } from './parser.ts';
import { RObject, RSet } from './value.ts';

interface Comment {
  row: number;
  text: string;
}

/** Binary operators written with one space on each side. */
const SPACED_OPS = new Set([':=', '=', '==', '!=', '<', '>', '<=', '>=', '+', '*', '/', '%', '|', '&']);
const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS = new Set([')', ']', '}']);

/** Format one module. Throws RegoError (rego_parse_error) when the source does not parse or cannot be formatted safely. */
export function formatModule(file: string, source: string): string {
  const before = parseModule(file, source);
  const out = layout(file, source);
  let after: Module;
  try {
    after = parseModule(file, out);
  } catch (err) {
    throw new RegoError('rego_format_error', `formatting would not parse (${err instanceof Error ? err.message : String(err)}); left unchanged`, before.pkgLoc);
  }
  if (canonical(before) !== canonical(after)) {
    throw new RegoError('rego_format_error', 'formatting would change the module; left unchanged', before.pkgLoc);
  }
  return out;
}

/** A module as text without locations, for "same meaning" comparisons (parse(fmt(m)) equals parse(m)). */
export function canonical(m: Module): string {
  return JSON.stringify(m, (key, v: unknown) => {
    if (key === 'loc' || key === 'pkgLoc' || key === 'file') return undefined;
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof RObject) return { $object: [...v.entries()] };
    if (v instanceof RSet) return { $set: [...v.values()] };
    return v;
  });
}

function layout(file: string, source: string): string {
  // CR of CRLF line ends is dropped with the trailing whitespace below; inside raw strings it is content and stays
  const src = source;
  const toks = tokenize(src, file).filter((t) => t.kind !== 'eof');
  const comments = commentsOf(src, toks);
  const raw = (t: Token): string => src.slice(t.offset, t.end ?? t.offset + t.text.length);

  // lines of tokens, by the row each token starts on
  const byRow = new Map<number, Token[]>();
  for (const t of toks) {
    const line = byRow.get(t.row) ?? [];
    line.push(t);
    byRow.set(t.row, line);
  }
  // a token spanning lines (a raw string) carries the tokens of the row it ends on: they belong to its line
  for (const row of [...byRow.keys()].sort((a, b) => a - b)) {
    const line = byRow.get(row);
    if (!line) continue;
    let end = lastRowOf(line, src);
    while (end > row && byRow.has(end)) {
      line.push(...(byRow.get(end) as Token[]));
      byRow.delete(end);
      end = lastRowOf(line, src);
    }
  }
  const commentAt = new Map(comments.map((c) => [c.row, c]));
  // a comment after a multi-line token belongs to the line that token started
  for (const [row, line] of byRow) {
    const end = lastRowOf(line, src);
    const c = commentAt.get(end);
    if (end > row && c) {
      commentAt.delete(end);
      commentAt.set(row, c);
    }
  }
  const rows = [...new Set([...byRow.keys(), ...commentAt.keys()])].sort((a, b) => a - b);

  const out: string[] = [];
  /** Open brackets: the row each was opened on (indentation counts rows, not brackets: `f({` indents once). */
  const open: Array<{ ch: string; row: number; body: boolean }> = [];
  let prevRow = 0;
  let prevKind: 'none' | 'package' | 'import' | 'oneliner' | 'rule' | 'comment' = 'none';
  /** Rows of the top-level statement being written started, and whether it is a groupable one-liner. */
  let pendingComments: string[] = [];
  let statementStart = 0;

  const indentOf = (firstTok: Token | undefined): number => {
    let rowsOpen = new Set(open.map((o) => o.row)).size;
    if (firstTok && firstTok.kind === 'punct' && CLOSERS.has(firstTok.text)) {
      // a line starting with closers: as deep as the bracket it closes
      const remaining = [...open];
      const line = byRow.get(firstTok.row) ?? [];
      for (const t of line) {
        if (t.kind !== 'punct' || !CLOSERS.has(t.text)) break;
        remaining.pop();
      }
      rowsOpen = new Set(remaining.map((o) => o.row)).size;
    }
    return rowsOpen;
  };

  for (const row of rows) {
    const line = byRow.get(row);
    const comment = commentAt.get(row);
    const blankBefore = prevRow > 0 && row > prevRow + 1;
    const depth = indentOf(line?.[0]);

    if (!line) {
      // an own-line comment
      const text = '\t'.repeat(depth) + (comment as Comment).text;
      if (depth === 0) {
        if (blankBefore && pendingComments.length) pendingComments.push('');
        pendingComments.push(text);
      } else {
        if (blankBefore && out.length && out[out.length - 1] !== '' && !/[{([]$/.test(out[out.length - 1] as string)) out.push('');
        out.push(text);
      }
      prevRow = row;
      continue;
    }

    const first = line[0] as Token;
    const topLevel = open.length === 0;
    if (topLevel) {
      const isElse = first.kind === 'ident' && first.text === 'else';
      const kind = first.kind === 'ident' && first.text === 'package' ? 'package' : first.kind === 'ident' && first.text === 'import' ? 'import' : 'rule';
      if (!isElse) {
        const oneLiner = kind === 'rule' && isOneLineStatement(line) && !(first.text === 'default');
        const k = kind === 'rule' ? (oneLiner ? 'oneliner' : 'rule') : kind;
        let blank = false;
        if (prevKind !== 'none') {
          if (k === 'import' && prevKind === 'import') blank = blankBefore;
          else if (k === 'oneliner' && prevKind === 'oneliner') blank = blankBefore || pendingComments.length > 0 || row - statementStart > 1;
          else blank = true;
        }
        if (blank && out.length && out[out.length - 1] !== '') out.push('');
        for (const c of pendingComments) out.push(c);
        pendingComments = [];
        prevKind = k;
        statementStart = row;
      }
    } else if (pendingComments.length) {
      for (const c of pendingComments) out.push(c);
      pendingComments = [];
    } else if (blankBefore && out.length && out[out.length - 1] !== '' && !/[{([]$/.test(out[out.length - 1] as string) && !(first.kind === 'punct' && CLOSERS.has(first.text))) {
      out.push('');
    }

    let text = '\t'.repeat(depth);
    const elseLine = open.length === 1 && first.kind === 'punct' && first.text === '}' && line[1]?.kind === 'ident' && line[1].text === 'else';
    const headEquals = topLevel || elseLine ? ruleValueEquals(line) : new Set<number>();
    for (let i = 0; i < line.length; i++) {
      const t = line[i] as Token;
      const prev = line[i - 1];
      let piece = raw(t);
      if (headEquals.has(i)) piece = ':=';
      if (prev) text += spaceBetween(prev, t, i - 1 === 0 ? undefined : line[i - 2], open) ? ' ' : '';
      text += piece;
      if (t.kind === 'punct' && OPENERS[t.text]) {
        open.push({ ch: t.text, row, body: t.text === '{' && isBodyBrace(prev) });
      } else if (t.kind === 'punct' && CLOSERS.has(t.text)) {
        open.pop();
      }
    }
    if (comment) text += ` ${comment.text}`;
    out.push(text.replace(/[ \t\r]+$/, ''));
    prevRow = lastRowOf(line, src);
  }
  for (const c of pendingComments) out.push(c);
  while (out.length && out[out.length - 1] === '') out.pop();
  // `package` is followed by one blank line
  const pkg = out.findIndex((l) => l.startsWith('package '));
  if (pkg >= 0 && pkg + 1 < out.length && out[pkg + 1] !== '') out.splice(pkg + 1, 0, '');
  return `${out.join('\n')}\n`;
}

function lastRowOf(line: Token[], src: string): number {
  const t = line[line.length - 1] as Token;
  const text = src.slice(t.offset, t.end ?? t.offset);
  return t.row + (text.match(/\n/g)?.length ?? 0);
}

/** A top-level statement that ends on its own line (no bracket left open at the end of it). */
function isOneLineStatement(line: Token[]): boolean {
  let depth = 0;
  for (const t of line) {
    if (t.kind === 'punct' && OPENERS[t.text]) depth++;
    else if (t.kind === 'punct' && CLOSERS.has(t.text)) depth--;
  }
  return depth === 0;
}

/** Indexes of rule-value `=` tokens on a top-level line (the head's and each `else =`), written `:=` as OPA does for v1. */
function ruleValueEquals(line: Token[]): Set<number> {
  const out = new Set<number>();
  let depth = 0;
  let headDone = false;
  for (let i = 0; i < line.length; i++) {
    const t = line[i] as Token;
    const prev = line[i - 1];
    if (depth <= 0 && t.kind === 'ident' && (t.text === 'if' || t.text === 'contains')) headDone = true;
    if (t.kind !== 'punct') continue;
    if (OPENERS[t.text]) depth++;
    else if (CLOSERS.has(t.text)) depth--;
    else if (depth <= 0 && t.text === ':=') headDone = true;
    else if (depth <= 0 && t.text === '=') {
      const afterElse = prev?.kind === 'ident' && prev.text === 'else';
      if (!headDone || afterElse) out.add(i);
      headDone = true;
    }
  }
  return out;
}

function isBodyBrace(prev: Token | undefined): boolean {
  return !!prev && prev.kind === 'ident' && (prev.text === 'if' || prev.text === 'else' || prev.text === 'not');
}

function isTermEnd(t: Token): boolean {
  if (t.kind === 'punct') return t.text === ')' || t.text === ']' || t.text === '}';
  return t.kind !== 'eof';
}

/** Keywords (never a ref or call head); `contains` is also the builtin `contains(…)`. */
const KEYWORDS = new Set(['if', 'else', 'in', 'some', 'every', 'not', 'with', 'as', 'default', 'import', 'package']);

const WORD_OPS = new Set(['if', 'else', 'in', 'some', 'every', 'not', 'with', 'as', 'contains', 'default', 'import', 'package']);

/** Whether one space goes between `a` and `b` on a line (OPA's spacing). */
function spaceBetween(a: Token, b: Token, beforeA: Token | undefined, open: Array<{ ch: string; body: boolean }>): boolean {
  const ap = a.kind === 'punct' ? a.text : null;
  const bp = b.kind === 'punct' ? b.text : null;
  // refs and calls: `.`, `[`, `(` glued to the term before them
  if (bp === '.' || (ap === '.' && b.kind === 'ident')) return false;
  // a keyword glued to `[` heads a ref (`in[x]`), glued to `(` only after a `.` (`foo.as(1)`; `not(x)` negates)
  if (bp === '[' && !b.spaced && isTermEnd(a)) return false;
  if (bp === '(' && !b.spaced && isTermEnd(a) && !(a.kind === 'ident' && KEYWORDS.has(a.text) && !(beforeA?.kind === 'punct' && beforeA.text === '.'))) return false;
  if (bp === ',' || bp === ';' || bp === ':') return false;
  if (ap === ',' || ap === ';' || ap === ':') return true;
  if (ap === '(' || ap === '[') return false;
  if (bp === ')' || bp === ']') return false;
  if (ap === '{') {
    const top = open[open.length - 1];
    return !!top?.body;
  }
  if (bp === '}') {
    const top = open[open.length - 1];
    return !!top?.body;
  }
  if (ap === '-' && isUnary(beforeA)) return false;
  if (bp === '-' || ap === '-') return true;
  if ((ap && SPACED_OPS.has(ap)) || (bp && SPACED_OPS.has(bp))) return true;
  return true;
}

/** A `-` is unary at the start of an expression or after an operator, opening bracket, comma or keyword. */
function isUnary(before: Token | undefined): boolean {
  if (!before) return true;
  if (before.kind === 'punct') return !(before.text === ')' || before.text === ']' || before.text === '}');
  return before.kind === 'ident' && WORD_OPS.has(before.text);
}

/** Comments: `#` to the end of the line, in the gaps between tokens. */
function commentsOf(src: string, toks: Token[]): Comment[] {
  const out: Comment[] = [];
  let pos = 0;
  let row = 1;
  const scanGap = (from: number, to: number): void => {
    let i = from;
    while (i < to) {
      const ch = src[i];
      if (ch === '\n') row++;
      else if (ch === '#') {
        let j = i;
        while (j < to && src[j] !== '\n') j++;
        out.push({ row, text: src.slice(i, j).replace(/[ \t\r]+$/, '') });
        i = j;
        continue;
      }
      i++;
    }
  };
  for (const t of toks) {
    scanGap(pos, t.offset);
    const end = t.end ?? t.offset + t.text.length;
    for (let i = t.offset; i < end; i++) if (src[i] === '\n') row++;
    pos = end;
  }
  scanGap(pos, src.length);
  return out;
}
