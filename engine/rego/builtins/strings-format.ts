// Go-compatible text rendering for Rego values: OPA's term String() (used by sprintf for non-scalar arguments) and a
// Go fmt.Sprintf interpreter for the verbs policies use. Written here because no JS library follows Go's fmt rules.
import { fmtE, fmtF, roundDecimal, toDecimal, type Decimal } from '../bigfloat.ts';
import type { Value } from '../value.ts';
import { BigNum, formatNumber, formatTerm, isInteger } from '../value.ts';

/** A Go string literal as strconv.Quote writes it (JSON escapes plus Go's \a \b \f \v and \x forms). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (cp === 7) out += '\\a';
    else if (cp === 8) out += '\\b';
    else if (cp === 12) out += '\\f';
    else if (cp === 10) out += '\\n';
    else if (cp === 13) out += '\\r';
    else if (cp === 9) out += '\\t';
    else if (cp === 11) out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

/** OPA's ast term String(): Rego literal syntax, `", "` separators, sorted sets and objects, `set()` for {}. */
export function regoTermString(v: Value): string {
  return formatTerm(v, goQuote);
}

// ── Go fmt.Sprintf ────────────────────────────────────────────────────────────────────────────

/** An argument as OPA hands it to Go: int, *big.Int, float64 or string (everything else as its term text). */
type GoArg =
  | { go: 'int'; n: bigint }
  | { go: '*big.Int'; n: bigint }
  | { go: 'float64'; f: number }
  | { go: 'string'; s: string };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** builtinSprintf's conversion of a number: its text as an int64, else as a big.Int's digits, else a float64, else the text. */
export function toGoArg(v: Value): GoArg {
  if (v instanceof BigNum) {
    if (/^[+-]?\d+$/.test(v.text)) {
      const n = BigInt(v.text);
      return n >= INT64_MIN && n <= INT64_MAX ? { go: 'int', n } : { go: '*big.Int', n };
    }
    // strconv.ParseFloat fails only on overflow (underflow reads as zero)
    const f = Number(v.text);
    return Number.isFinite(f) ? { go: 'float64', f } : { go: 'string', s: v.text };
  }
  if (typeof v === 'bigint') {
    if (v >= INT64_MIN && v <= INT64_MAX) return { go: 'int', n: v };
    return { go: '*big.Int', n: v };
  }
  if (typeof v === 'number') {
    if (Number.isInteger(v) && isInteger(v) && Math.abs(v) < 1e21) {
      const n = BigInt(v);
      return n >= INT64_MIN && n <= INT64_MAX ? { go: 'int', n } : { go: '*big.Int', n };
    }
    if (!Number.isFinite(v)) return { go: 'string', s: formatNumber(v) };
    return { go: 'float64', f: v };
  }
  if (typeof v === 'string') return { go: 'string', s: v };
  return { go: 'string', s: regoTermString(v) };
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}

function pad(s: string, spec: Spec, numeric: boolean): string {
  if (spec.width === undefined) return s;
  const runes = [...s].length;
  if (runes >= spec.width) return s;
  const fill = spec.width - runes;
  if (spec.minus) return s + ' '.repeat(fill);
  if (spec.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0] : '';
    return sign + '0'.repeat(fill) + s.slice(sign.length);
  }
  return ' '.repeat(fill) + s;
}

function signed(body: string, negative: boolean, spec: Spec): string {
  if (negative) return `-${body}`;
  if (spec.plus) return `+${body}`;
  if (spec.space) return ` ${body}`;
  return body;
}

function formatInt(n: bigint, verb: string, spec: Spec): string | undefined {
  const neg = n < 0n;
  const abs = neg ? -n : n;
  let body: string;
  switch (verb) {
    case 'd':
    case 'v':
    case 's':
      body = abs.toString(10);
      break;
    case 'x':
      body = (spec.sharp ? '0x' : '') + abs.toString(16);
      break;
    case 'X':
      body = (spec.sharp ? '0X' : '') + abs.toString(16).toUpperCase();
      break;
    case 'o':
      body = (spec.sharp ? '0' : '') + abs.toString(8);
      break;
    case 'O':
      body = `0o${abs.toString(8)}`;
      break;
    case 'b':
      body = abs.toString(2);
      break;
    case 'c':
      return pad(String.fromCodePoint(Number(n)), spec, false);
    case 'q':
      return pad(`'${String.fromCodePoint(Number(n))}'`, spec, false);
    case 'U':
      return pad(`U+${abs.toString(16).toUpperCase().padStart(4, '0')}`, spec, false);
    default:
      return undefined;
  }
  if (spec.prec !== undefined) body = body.padStart(spec.prec, '0');
  const zeroOk = spec.prec === undefined;
  return pad(signed(body, neg, spec), { ...spec, zero: spec.zero && zeroOk && !spec.minus }, true);
}

/** The exact decimal expansion of a finite double (every double is a dyadic rational). */
function exactDecimal(f: number): Decimal {
  const a = Math.abs(f);
  if (a === 0) return { mant: '', exp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const frac = bits & ((1n << 52n) - 1n);
  return biased === 0 ? toDecimal(frac, -1074) : toDecimal(frac | (1n << 52n), biased - 1075);
}

/** strconv's shortest digits for a double: JS finds the same shortest, closest digit string. */
function shortestDecimal(f: number): Decimal {
  const a = Math.abs(f);
  if (a === 0) return { mant: '', exp: 0 };
  const [mant, exp] = a.toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '').replace(/0+$/, '');
  return { mant: digits, exp: Number(exp) + 1 };
}

/** Go's %e: d.ddde±XX, correctly rounded from the exact value (ties to even). */
function goExp(f: number, prec: number | undefined, upper: boolean): string {
  let d: Decimal;
  let p: number;
  if (prec === undefined) {
    d = shortestDecimal(f);
    p = Math.max(d.mant.length - 1, 0);
  } else {
    d = roundDecimal(exactDecimal(f), 1 + prec);
    p = prec;
  }
  return fmtE(d, p, upper ? 'E' : 'e');
}

/** Go's %g: shortest digits (or `prec` significant), exponent form when exp < -4 or exp >= the precision. */
function goG(f: number, prec: number | undefined, upper: boolean): string {
  const shortest = prec === undefined;
  let d: Decimal;
  let p: number;
  if (shortest) {
    d = shortestDecimal(f);
    p = d.mant.length;
  } else {
    p = prec === 0 ? 1 : prec;
    d = roundDecimal(exactDecimal(f), p);
  }
  let eprec = p;
  if (eprec > d.mant.length && d.mant.length >= d.exp) eprec = d.mant.length;
  if (shortest) eprec = 6;
  const exp = d.exp - 1;
  if (d.mant !== '' && (exp < -4 || exp >= eprec)) {
    if (p > d.mant.length) p = d.mant.length;
    return fmtE(d, Math.max(p - 1, 0), upper ? 'E' : 'e');
  }
  if (p > d.exp) p = d.mant.length;
  return fmtF(d, Math.max(p - d.exp, 0));
}

/** Go's %f: fixed decimals, correctly rounded from the exact value (ties to even, unlike toFixed). */
function goFixed(f: number, prec: number): string {
  const d = exactDecimal(f);
  return fmtF(roundDecimal(d, d.exp + prec), prec);
}

function formatFloat(f: number, verb: string, spec: Spec): string | undefined {
  const neg = f < 0 || Object.is(f, -0);
  let body: string;
  switch (verb) {
    case 'v':
    case 'g':
    case 'G':
      body = goG(f, spec.prec, verb === 'G');
      break;
    case 'f':
    case 'F':
      body = goFixed(f, spec.prec ?? 6);
      break;
    case 'e':
    case 'E':
      body = goExp(f, spec.prec ?? 6, verb === 'E');
      break;
    default:
      return undefined;
  }
  return pad(signed(body, neg, spec), { ...spec, zero: spec.zero && !spec.minus }, true);
}

function hexOfString(s: string, upper: boolean, spec: Spec): string {
  const bytes = new TextEncoder().encode(s);
  let out = '';
  for (const b of bytes) {
    if (spec.space && out) out += ' ';
    if (spec.sharp && (spec.space || !out)) out += upper ? '0X' : '0x';
    const h = b.toString(16).padStart(2, '0');
    out += upper ? h.toUpperCase() : h;
  }
  return out;
}

function formatString(s: string, verb: string, spec: Spec): string | undefined {
  switch (verb) {
    case 'v':
    case 's': {
      const cut = spec.prec === undefined ? s : [...s].slice(0, spec.prec).join('');
      return pad(cut, spec, false);
    }
    case 'q':
      return pad(spec.sharp && !/[`\u0000-\u001f\u007f]/.test(s) ? `\`${s}\`` : goQuote(s), spec, false);
    case 'x':
    case 'X':
      return pad(hexOfString(s, verb === 'X', spec), spec, false);
    default:
      return undefined;
  }
}

/** The text Go's %v gives an argument (used inside %!verb(type=value) and %!(EXTRA ...)). */
function plainText(a: GoArg): string {
  switch (a.go) {
    case 'int':
    case '*big.Int':
      return a.n.toString();
    case 'float64':
      return goG(a.f, undefined, false).replace(/^/, a.f < 0 ? '-' : '');
    case 'string':
      return a.s;
  }
}

function formatArg(a: GoArg, verb: string, spec: Spec): string {
  if (verb === 'T') return pad(a.go, spec, false);
  let out: string | undefined;
  switch (a.go) {
    case 'int':
      out = verb === 's' ? undefined : formatInt(a.n, verb, spec);
      break;
    case '*big.Int':
      out = ['d', 's', 'v', 'x', 'X', 'o', 'O', 'b'].includes(verb) ? formatInt(a.n, verb, spec) : undefined;
      if (out === undefined) return `%!${verb}(big.Int=${a.n.toString()})`;
      break;
    case 'float64':
      out = formatFloat(a.f, verb, spec);
      break;
    case 'string':
      out = formatString(a.s, verb, spec);
      break;
  }
  return out ?? `%!${verb}(${a.go}=${plainText(a)})`;
}

/** Go's fmt.Sprintf over OPA-converted arguments, including Go's %!verb(MISSING) / %!(EXTRA …) markers. */
export function goSprintf(format: string, values: Value[]): string {
  const args = values.map(toGoArg);
  let argi = 0;
  let out = '';
  let i = 0;
  while (i < format.length) {
    const ch = format[i] as string;
    if (ch !== '%') {
      out += ch;
      i++;
      continue;
    }
    i++;
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    flags: for (; i < format.length; i++) {
      switch (format[i]) {
        case '-':
          spec.minus = true;
          break;
        case '+':
          spec.plus = true;
          break;
        case '#':
          spec.sharp = true;
          break;
        case ' ':
          spec.space = true;
          break;
        case '0':
          spec.zero = true;
          break;
        default:
          break flags;
      }
    }
    // Go's fmt refuses widths and precisions above 1e6 (tooLarge), which also bounds the output of `%0500000000d`
    const tooLarge = (n: number): boolean => n > 1e6 || n < -1e6;
    const readNum = (): number | undefined => {
      if (format[i] === '*') {
        i++;
        const a = args[argi++];
        return a && a.go === 'int' && !tooLarge(Number(a.n)) ? Number(a.n) : undefined;
      }
      let num = 0;
      let digits = 0;
      for (; i < format.length && format[i]! >= '0' && format[i]! <= '9'; i++, digits++) {
        if (tooLarge(num)) {
          i = format.length; // Go's parsenum: an overlong number consumes the rest of the format
          return undefined;
        }
        num = num * 10 + Number(format[i]);
      }
      return digits > 0 ? num : undefined;
    };
    spec.width = readNum();
    if (format[i] === '.') {
      i++;
      spec.prec = readNum() ?? 0;
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) as number);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    const a = args[argi];
    if (a === undefined) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    argi++;
    out += formatArg(a, verb, spec);
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((a) => `${a.go}=${plainText(a)}`)
      .join(', ')})`;
  }
  return out;
}
