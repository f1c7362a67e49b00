import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from 'yaml';
import { lookupBuiltin } from '../../../engine/rego/builtins/index.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { RObject, RSet, equal, parseNumber, toJSON } from '../../../engine/rego/value.ts';
import type { Value } from '../../../engine/rego/value.ts';

const DIR = '/work/shared/conformance/opa/v1/providers-aws';
type Case = { note: string; modules: string[]; want_result?: Array<{ x: unknown }>; want_error?: string; want_error_code?: string };
const cases: Case[] = readdirSync(DIR).flatMap((f) => (parse(readFileSync(`${DIR}/${f}`, 'utf8')) as { cases: Case[] }).cases);
const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0, print: () => {} };
const sign = (...args: Value[]): Value => lookupBuiltin('providers.aws.sign_req')!.fn(args, ctx) as Value;

/** Reads the literal Rego terms the cases pass to builtins (strings, numbers, objects, arrays, sets). */
class Terms {
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

function constant(module: string, name: string): Value {
  const m = new RegExp(`^${name} := `, 'm').exec(module)!;
  return new Terms(module, m.index + m[0].length).term() as Value;
}

describe('providers.aws.sign_req (conformance cases)', () => {
  for (const c of cases) {
    it(c.note, () => {
      const m = c.modules[0] as string;
      const time = new Terms(/sign_req\(req, aws_config, ([^)]*)\)/.exec(m)![1] as string).term() as Value;
      const run = (): Value => sign(constant(m, 'req'), constant(m, 'aws_config'), time);
      if (c.want_error) {
        let err: unknown;
        try {
          run();
        } catch (e) {
          err = e;
        }
        expect((err as Error).message).toContain(c.want_error);
        expect((err as { code: string }).code).toBe(c.want_error_code);
        return;
      }
      expect(toJSON(run())).toEqual(toJSON(constant(m, 'expected')));
    });
  }
});

describe('providers.aws.sign_req', () => {
  const config = RObject.fromRecord({ aws_access_key: 'AK', aws_secret_access_key: 'SK', aws_service: 's3', aws_region: 'eu-west-1' });
  it('the signature depends on the body, the time and the secret', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.bigInt({ min: 0n, max: 4_000_000_000n * 1_000_000_000n }), (a, b, t) => {
        const auth = (body: string, secret: string): Value => {
          const cfg = new RObject(config.entries()).set('aws_secret_access_key', secret);
          const req = RObject.fromRecord({ method: 'put', url: 'https://bucket.example.com/key?x=1', raw_body: body });
          return ((sign(req, cfg, t) as RObject).get('headers') as RObject).get('Authorization') as Value;
        };
        if (a !== b) expect(equal(auth(a, 'SK'), auth(b, 'SK'))).toBe(false);
        expect(equal(auth(a, 'SK'), auth(a, 'SK2'))).toBe(false);
        expect(equal(auth(a, 'SK'), auth(a, 'SK'))).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});

