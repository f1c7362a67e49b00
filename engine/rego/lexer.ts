// Rego lexer (OPA's ast/internal/scanner): source text → tokens with row/col. There is no newline token: the parser
// ends a literal where the next token cannot continue it, and refs/calls must not have whitespace before `.`/`[`/`(`.
import { RegoError } from './ast.ts';

export type TokenKind = 'ident' | 'string' | 'rawstring' | 'number' | 'template' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Identifier name, punctuation text, number text, or the decoded string. */
  text: string;
  row: number;
  col: number;
  offset: number;
  /** Whitespace or a comment precedes this token (refs and calls do not allow it). */
  spaced: boolean;
  /** Offset just past the token's source text (the formatter reprints tokens as written). */
  end?: number;
  /** For template strings: literal parts and expression sources, alternating (starts and ends with a literal). */
  parts?: TemplatePart[];
}

export type TemplatePart = { lit: string } | { expr: string; row: number; col: number };

const PUNCT3 = new Set([]);
const PUNCT2 = new Set([':=', '==', '!=', '<=', '>=']);
const PUNCT1 = new Set(['.', ',', ';', ':', '(', ')', '[', ']', '{', '}', '=', '<', '>', '+', '-', '*', '/', '%', '&', '|']);
void PUNCT3;

export function tokenize(src: string, file: string, startRow = 1, startCol = 1): Token[] {
  const out: Token[] = [];
  let i = 0;
  let row = startRow;
  let col = startCol;
  const fail = (msg: string, r = row, c = col): never => {
    throw new RegoError('rego_parse_error', msg, { file, row: r, col: c });
  };
  const advance = (n: number): void => {
    for (let k = 0; k < n; k++) {
      if (src.charCodeAt(i) === 10) {
        row++;
        col = 1;
      } else col++;
      i++;
    }
  };
  let spaced = true;
  while (i < src.length) {
    const ch = src[i] as string;
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      advance(1);
      spaced = true;
      continue;
    }
    if (ch === '#') {
      while (i < src.length && src[i] !== '\n') advance(1);
      spaced = true;
      continue;
    }
    const tok = (kind: TokenKind, text: string, len: number, r = row, c = col, off = i): Token => {
      const t: Token = { kind, text, row: r, col: c, offset: off, spaced };
      advance(len);
      t.end = i;
      spaced = false;
      return t;
    };
    if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j] as string)) j++;
      out.push(tok('ident', src.slice(i, j), j - i));
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:0|[1-9][0-9]*)?(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i));
      const text = m?.[0] ?? '';
      if (!text || /[0-9]/.test(src[i + text.length] ?? '') === true && text === '0') fail('invalid number');
      out.push(tok('number', text, text.length));
      continue;
    }
    if (ch === '"') {
      const [value, len] = readString(src, i, fail);
      out.push(tok('string', value, len));
      continue;
    }
    if (ch === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) fail('non-terminated raw string');
      out.push(tok('rawstring', src.slice(i + 1, end), end + 1 - i));
      continue;
    }
    if (ch === '$' && (src[i + 1] === '"' || src[i + 1] === '`')) {
      const r0 = row;
      const c0 = col;
      const o0 = i;
      const { parts, len } = readTemplate(src, i, row, col, fail);
      const t = tok('template', '', len, r0, c0, o0);
      t.parts = parts;
      out.push(t);
      continue;
    }
    const two = src.slice(i, i + 2);
    if (PUNCT2.has(two)) {
      out.push(tok('punct', two, 2));
      continue;
    }
    if (PUNCT1.has(ch)) {
      out.push(tok('punct', ch, 1));
      continue;
    }
    fail(`illegal token ${JSON.stringify(ch)}`);
  }
  out.push({ kind: 'eof', text: '', row, col, offset: i, spaced: true });
  return out;
}

function readString(src: string, start: number, fail: (m: string) => never, template = false): [string, number] {
  let i = start + 1;
  let out = '';
  while (true) {
    if (i >= src.length || src[i] === '\n') fail('non-terminated string');
    const c = src[i] as string;
    if (c === '"') break;
    if (c === '\\') {
      const e = src[i + 1];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          i += 2;
          continue;
        case 'b':
          out += '\b';
          i += 2;
          continue;
        case 'f':
          out += '\f';
          i += 2;
          continue;
        case 'n':
          out += '\n';
          i += 2;
          continue;
        case 'r':
          out += '\r';
          i += 2;
          continue;
        case 't':
          out += '\t';
          i += 2;
          continue;
        case 'u': {
          const hex = src.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid unicode escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
          continue;
        }
        case '{':
          if (template) {
            out += '{';
            i += 2;
            continue;
          }
          fail('illegal escape sequence');
          break;
        default:
          fail('illegal escape sequence');
      }
    }
    if (template && c === '{') break;
    out += c;
    i++;
  }
  return [out, i + 1 - start];
}

/** `$"...{expr}..."` or `` $`...{expr}...` ``: literal parts and raw expression sources with their positions. */
function readTemplate(
  src: string,
  start: number,
  row0: number,
  col0: number,
  fail: (m: string) => never,
): { parts: TemplatePart[]; len: number } {
  const raw = src[start + 1] === '`';
  const close = raw ? '`' : '"';
  const parts: TemplatePart[] = [];
  let i = start + 2;
  let lit = '';
  let row = row0;
  let col = col0 + 2;
  const step = (n: number): void => {
    for (let k = 0; k < n; k++) {
      if (src[i] === '\n') {
        row++;
        col = 1;
      } else col++;
      i++;
    }
  };
  while (true) {
    if (i >= src.length) fail('non-terminated template string');
    const c = src[i] as string;
    if (c === close) {
      step(1);
      break;
    }
    if (c === '\\' && src[i + 1] === '{') {
      lit += '{';
      step(2);
      continue;
    }
    if (c === '\\' && !raw) {
      const escLen = src[i + 1] === 'u' ? 6 : 2;
      const [dec] = readString(`"${src.slice(i, i + escLen)}"`, 0, fail, true);
      lit += dec;
      step(escLen);
      continue;
    }
    if (!raw && c === '\n') fail('non-terminated template string');
    if (c === '{') {
      parts.push({ lit });
      lit = '';
      step(1);
      const r = row;
      const cl = col;
      const begin = i;
      let depth = 0;
      while (true) {
        if (i >= src.length) fail('non-terminated template expression');
        const d = src[i] as string;
        if (d === '"') {
          const [, n] = readString(src, i, fail);
          step(n);
          continue;
        }
        if (d === '`') {
          const end = src.indexOf('`', i + 1);
          if (end < 0) fail('non-terminated raw string');
          step(end + 1 - i);
          continue;
        }
        if (d === '{') depth++;
        if (d === '}') {
          if (depth === 0) break;
          depth--;
        }
        step(1);
      }
      parts.push({ expr: src.slice(begin, i), row: r, col: cl });
      step(1);
      continue;
    }
    lit += c;
    step(1);
  }
  parts.push({ lit });
  return { parts, len: i - start };
}
