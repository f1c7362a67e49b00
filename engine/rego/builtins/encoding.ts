// Builtins: base64*, base64url*, hex.*, urlquery.*, json.marshal*, json.unmarshal, json.is_valid, yaml.*
// Byte-level encodings work on the UTF-8 bytes of the string, as Go does; decoded bytes are read back as UTF-8.
import { Buffer } from 'node:buffer';
import { parseDocument, stringify as yamlStringify } from 'yaml';
import type { Value } from '../value.ts';
import { RObject, RSet, fromJSON, toJSON } from '../value.ts';
import { BuiltinError, T, checkSerializedSize, expectObject, expectString, register, registerValidity } from './registry.ts';
import { JSONSyntaxError, marshalJSON, marshalJSONIndent, parseJSONText } from './encoding-json.ts';
import { OperandMessageError, elementError } from './strings-operands.ts';

const S = T.string;
const utf8 = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

function stringFn(name: string, f: (s: string) => Value | undefined, result = S): void {
  register({ name, sig: { args: [S], result }, fn: ([x]) => f(expectString(name, 1, x as Value)) });
}

// ── base64 (Go's StdEncoding / URLEncoding: strict alphabet and padding) ─────────────────────

const STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const URL_PADDED = /^(?:[A-Za-z0-9\-_]{4})*(?:[A-Za-z0-9\-_]{2}==|[A-Za-z0-9\-_]{3}=)?$/;
const URL_RAW = /^[A-Za-z0-9\-_]*$/;

/** Go's "illegal base64 data at input byte N": the first offending position. */
function illegalAt(s: string, alphabet: RegExp): number {
  for (let i = 0; i < s.length; i++) if (!alphabet.test(s[i] as string)) return i;
  return Math.max(0, s.length - (s.length % 4 || 4));
}

function decodeBase64(name: string, s: string, valid: RegExp, alphabet: RegExp, encoding: 'base64' | 'base64url'): string {
  // Go ignores \r and \n inside base64 input
  const clean = s.replace(/[\r\n]/g, '');
  if (!valid.test(clean) || (encoding === 'base64url' && !clean.includes('=') && clean.length % 4 === 1)) {
    throw new BuiltinError(name, `illegal base64 data at input byte ${illegalAt(clean, alphabet)}`);
  }
  return utf8(Buffer.from(clean, encoding));
}

stringFn('base64.encode', (s) => Buffer.from(s, 'utf8').toString('base64'));
stringFn('base64.decode', (s) => decodeBase64('base64.decode', s, STD, /[A-Za-z0-9+/=]/, 'base64'));
stringFn('base64.is_valid', (s) => STD.test(s.replace(/[\r\n]/g, '')), T.boolean);
stringFn('base64url.encode', (s) => Buffer.from(s, 'utf8').toString('base64').replaceAll('+', '-').replaceAll('/', '_'));
stringFn('base64url.encode_no_pad', (s) => Buffer.from(s, 'utf8').toString('base64url'));
// OPA picks the raw (unpadded) decoder when the length is not a multiple of 4
stringFn('base64url.decode', (s) =>
  decodeBase64('base64url.decode', s, s.length % 4 === 0 ? URL_PADDED : URL_RAW, /[A-Za-z0-9\-_=]/, 'base64url'),
);

// ── hex ──────────────────────────────────────────────────────────────────────────────────────

stringFn('hex.encode', (s) => Buffer.from(s, 'utf8').toString('hex'));
stringFn('hex.decode', (s) => {
  const bytes = Buffer.from(s, 'utf8');
  const isHex = (b: number | undefined): boolean => b !== undefined && /[0-9a-fA-F]/.test(String.fromCharCode(b));
  const invalid = (b: number): BuiltinError => {
    const ch = String.fromCodePoint(b);
    return new BuiltinError('hex.decode', `encoding/hex: invalid byte: U+${b.toString(16).toUpperCase().padStart(4, '0')} ${JSON.stringify(ch).replace(/^"|"$/g, "'")}`);
  };
  let j = 1;
  for (; j < bytes.length; j += 2) {
    if (!isHex(bytes[j - 1])) throw invalid(bytes[j - 1] as number);
    if (!isHex(bytes[j])) throw invalid(bytes[j] as number);
  }
  if (bytes.length % 2 === 1) {
    if (!isHex(bytes[j - 1])) throw invalid(bytes[j - 1] as number);
    throw new BuiltinError('hex.decode', 'encoding/hex: odd length hex string');
  }
  return utf8(Buffer.from(s, 'hex'));
});

// ── URL query encoding (Go's url.QueryEscape / QueryUnescape / Values) ───────────────────────

export function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function queryUnescape(name: string, s: string): string {
  const bytes: number[] = [];
  const src = Buffer.from(s, 'utf8');
  for (let i = 0; i < src.length; i++) {
    const b = src[i] as number;
    if (b === 0x25) {
      const hex = src.subarray(i + 1, i + 3).toString('latin1');
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
        throw new BuiltinError(name, `invalid URL escape ${JSON.stringify(src.subarray(i, i + 3).toString('latin1'))}`);
      }
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(b === 0x2b ? 0x20 : b);
  }
  return utf8(Uint8Array.from(bytes));
}

stringFn('urlquery.encode', queryEscape);
stringFn('urlquery.decode', (s) => queryUnescape('urlquery.decode', s));

register({
  name: 'urlquery.encode_object',
  sig: { args: [T.object(S, T.union(S, T.array(S), T.set(S)))], result: S },
  fn: ([o]) => {
    const name = 'urlquery.encode_object';
    const obj = expectObject(name, 1, o as Value);
    const parts: string[] = [];
    for (const [k, v] of obj.sortedEntries()) {
      if (typeof k !== 'string') throw new OperandMessageError(name, 'operand 1 must be object[string: string|array[string]|set[string]]');
      const values = typeof v === 'string' ? [v] : Array.isArray(v) ? v : v instanceof RSet ? v.sorted() : undefined;
      if (values === undefined) throw new OperandMessageError(name, `operand 1 values must be string, array[string], or set[string]`);
      for (const x of values) {
        if (typeof x !== 'string') throw elementError(name, 1, v as Value, x, 'string');
        parts.push(`${queryEscape(k)}=${queryEscape(x)}`);
      }
    }
    return parts.join('&');
  },
});

stringFn(
  'urlquery.decode_object',
  (s) => {
    const out = new Map<string, string[]>();
    for (const part of s.split('&')) {
      if (part === '') continue;
      if (part.includes(';')) throw new BuiltinError('urlquery.decode_object', 'invalid semicolon separator in query');
      const eq = part.indexOf('=');
      const k = queryUnescape('urlquery.decode_object', eq < 0 ? part : part.slice(0, eq));
      const v = queryUnescape('urlquery.decode_object', eq < 0 ? '' : part.slice(eq + 1));
      out.set(k, [...(out.get(k) ?? []), v]);
    }
    return new RObject([...out].map(([k, vs]) => [k, vs] as [Value, Value]));
  },
  T.object(S, T.array(S)),
);

// ── JSON ─────────────────────────────────────────────────────────────────────────────────────

register({
  name: 'json.marshal',
  sig: { args: [T.any], result: S },
  fn: ([x]) => {
    checkSerializedSize('json.marshal', x as Value);
    return marshalJSON(x as Value);
  },
});

register({
  name: 'json.marshal_with_options',
  sig: { args: [T.any, T.object(S, T.any)], result: S },
  fn: ([x, o]) => {
    const name = 'json.marshal_with_options';
    const opts = expectObject(name, 2, o as Value);
    checkSerializedSize(name, x as Value);
    let pretty: boolean | undefined;
    let prefix = '';
    let indent = '\t';
    for (const [k, v] of opts.sortedEntries()) {
      if (k === 'pretty') {
        if (typeof v !== 'boolean') throw new OperandMessageError(name, 'operand 2 "pretty" must be boolean');
        pretty = v;
      } else if (k === 'prefix' || k === 'indent') {
        if (typeof v !== 'string') throw new OperandMessageError(name, `operand 2 ${JSON.stringify(k)} must be string`);
        if (k === 'prefix') prefix = v;
        else indent = v;
        pretty ??= true;
      } else {
        throw new OperandMessageError(name, `object contained unknown key ${JSON.stringify(typeof k === 'string' ? k : marshalJSON(k))}`);
      }
    }
    if (opts.get('pretty') === false || !pretty) return marshalJSON(x as Value);
    return marshalJSONIndent(x as Value, prefix, indent);
  },
});

stringFn('json.unmarshal', (s) => {
  try {
    return parseJSONText(s);
  } catch (e) {
    if (e instanceof JSONSyntaxError) throw new BuiltinError('json.unmarshal', e.message);
    throw e;
  }
}, T.any);

registerValidity('json.is_valid', (s) => parseJSONText(s));

// ── YAML (OPA goes through JSON with go-yaml v2, i.e. YAML 1.1 scalars) ──────────────────────

function parseYAML(name: string, s: string): Value {
  const doc = parseDocument(s, {
    version: '1.1',
    intAsBigInt: true,
    uniqueKeys: false,
    // timestamps stay strings, as they do on OPA's YAML → JSON path
    customTags: (tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
  });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0].line ?? 1;
    let what = err.message.split(' at line ')[0] as string;
    // go-yaml's wording for the most common flow-collection mistake
    if (/^Flow sequence/.test(what)) what = "did not find expected ',' or ']'";
    else if (/Flow map/.test(what)) what = "did not find expected ',' or '}'";
    throw new BuiltinError(name, `yaml: line ${line}: ${what}`);
  }
  return fromJSON(doc.toJS({ maxAliasCount: 100 }));
}

register({
  name: 'yaml.marshal',
  sig: { args: [T.any], result: S },
  fn: ([x]) => {
    checkSerializedSize('yaml.marshal', x as Value);
    return yamlStringify(toJSON(x as Value), { version: '1.1', indentSeq: false, lineWidth: 0 });
  },
});
stringFn('yaml.unmarshal', (s) => parseYAML('yaml.unmarshal', s), T.any);
registerValidity('yaml.is_valid', (s) => parseYAML('yaml.is_valid', s));
