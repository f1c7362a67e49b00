// OPA's conformance cases as the builtin unit tests read them: the cases of one directory, and a reader for the
// literal Rego terms those cases pass to builtins (the full runner lives in test/conformance/rego-conformance.ts).
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { RObject, RSet, parseNumber } from '../../engine/rego/value.ts';
import type { Value } from '../../engine/rego/value.ts';

export const CONFORMANCE_CASES_DIR = '/work/shared/conformance/opa/v1';

export type ConformanceCase = {
  note: string;
  modules: string[];
  input?: Record<string, unknown>;
  want_result?: Array<{ x: unknown }>;
  want_error?: string;
  want_error_code?: string;
};

/** Every case of every file in one conformance directory (e.g. `graphql`, `jwtbuiltins`), in directory order. */
export function conformanceCases(dir: string): ConformanceCase[] {
  const path = `${CONFORMANCE_CASES_DIR}/${dir}`;
  return readdirSync(path).flatMap((f) => (parse(readFileSync(`${path}/${f}`, 'utf8')) as { cases: ConformanceCase[] }).cases);
}

/** Reads the literal Rego terms the cases pass to builtins (strings, numbers, objects, arrays, sets). */
export class LiteralTerms {
  constructor(
    private readonly src: string,
    public at = 0,
  ) {}
  private ws(): void {
    while (/[\s,]/.test(this.src[this.at] ?? '') || this.src[this.at] === '#') {
      if (this.src[this.at] === '#') while (this.at < this.src.length && this.src[this.at] !== '\n') this.at++;
      else this.at++;
    }
  }
  term(): Value | undefined {
    this.ws();
    const ch = this.src[this.at] as string;
    if (ch === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(this.src.slice(this.at)) as RegExpExecArray;
      this.at += m[0].length;
      return JSON.parse(m[0]) as string;
    }
    if (ch === '`') {
      const end = this.src.indexOf('`', this.at + 1);
      const s = this.src.slice(this.at + 1, end);
      this.at = end + 1;
      return s;
    }
    if (ch === '[' || ch === '{') {
      this.at++;
      const items: Array<[Value | undefined, Value | undefined]> = [];
      let isObject = false;
      for (this.ws(); this.src[this.at] !== (ch === '[' ? ']' : '}'); this.ws()) {
        const k = this.term();
        this.ws();
        if (this.src[this.at] === ':') {
          this.at++;
          isObject = true;
          items.push([k, this.term()]);
        } else items.push([k, undefined]);
      }
      this.at++;
      if (ch === '[') return items.some(([k]) => k === undefined) ? undefined : items.map(([k]) => k as Value);
      if (items.some(([k, v]) => k === undefined || (isObject && v === undefined))) return undefined;
      return isObject || items.length === 0 ? new RObject(items as Array<[Value, Value]>) : new RSet(items.map(([k]) => k as Value));
    }
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|set\(\)|[A-Za-z_][\w.]*(?:\([^)]*\))?)/.exec(this.src.slice(this.at)) as RegExpExecArray;
    this.at += m[0].length;
    const w = m[0];
    if (w === 'true' || w === 'false') return w === 'true';
    if (w === 'null') return null;
    if (w === 'set()') return new RSet();
    if (/^-?\d/.test(w)) return parseNumber(w);
    return undefined; // a variable or call: not a literal
  }
}
