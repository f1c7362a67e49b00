// JSON text ⇄ Rego values as Go's encoding/json does it for OPA: big integers stay exact when parsing, and
// marshalling escapes <, >, & and U+2028/9 like json.Marshal (HTML-safe by default).
import type { Value } from '../value.ts';
import { RObject, RSet, parseNumber, stringifyJSON } from '../value.ts';

export class JSONSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JSONSyntaxError';
  }
}

const describeChar = (ch: string): string => (ch === "'" ? "'\\''" : `'${ch}'`);

/** Parse JSON text into a Value; Go-style messages ("invalid character 'x' looking for beginning of value"). */
export function parseJSONText(text: string): Value {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const end = (): never => {
    throw new JSONSyntaxError('unexpected end of JSON input');
  };
  const bad = (context: string): never => {
    if (i >= text.length) end();
    throw new JSONSyntaxError(`invalid character ${describeChar(text[i] as string)} ${context}`);
  };
  const value = (): Value => {
    ws();
    const ch = text[i];
    if (ch === undefined) return end();
    if (ch === '{') {
      i++;
      const o = new RObject();
      ws();
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') bad('looking for beginning of object key string');
        const k = str();
        ws();
        if (text[i] !== ':') bad('after object key');
        i++;
        o.set(k, value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return o;
        }
        bad('after object key:value pair');
      }
    }
    if (ch === '[') {
      i++;
      const a: Value[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a;
        }
        bad('after array element');
      }
    }
    if (ch === '"') return str();
    for (const [lit, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as Array<[string, Value]>) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return v;
      }
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return bad('looking for beginning of value');
    i += m[0].length;
    return parseNumber(m[0]);
  };
  const str = (): string => {
    i++;
    let out = '';
    for (;;) {
      const ch = text[i];
      if (ch === undefined) return end();
      if (ch === '"') {
        i++;
        return out;
      }
      if (ch === '\\') {
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          i++;
          bad('in string escape code');
        }
      } else if (ch < ' ') {
        bad('in string literal');
      } else {
        out += ch;
        i++;
      }
    }
  };
  const v = value();
  ws();
  if (i < text.length) bad('after top-level value');
  return v;
}

/** Go's json.Marshal string escaping (HTML-safe). */
function quote(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`);
}

const keyText = (k: Value): string => (typeof k === 'string' ? k : marshalJSON(k));

/** Compact JSON as OPA's json.marshal writes it: sorted keys, sets as sorted arrays, non-string keys as JSON text. */
export function marshalJSON(v: Value): string {
  return stringifyJSON(v, quote);
}

/** Go's json.MarshalIndent, with OPA's extra prefix on the first line too. */
export function marshalJSONIndent(v: Value, prefix: string, indent: string): string {
  const walk = (x: Value, depth: number): string => {
    const nl = `\n${prefix}${indent.repeat(depth + 1)}`;
    const close = `\n${prefix}${indent.repeat(depth)}`;
    if (Array.isArray(x) || x instanceof RSet) {
      const items = Array.isArray(x) ? x : x.sorted();
      if (items.length === 0) return '[]';
      return `[${items.map((e) => nl + walk(e, depth + 1)).join(',')}${close}]`;
    }
    if (x instanceof RObject) {
      if (x.size === 0) return '{}';
      return `{${x
        .sortedEntries()
        .map(([k, val]) => `${nl}${quote(keyText(k))}: ${walk(val, depth + 1)}`)
        .join(',')}${close}}`;
    }
    return marshalJSON(x);
  };
  return prefix + walk(v, 0);
}
