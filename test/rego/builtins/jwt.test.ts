import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { lookupBuiltin } from '../../../engine/rego/builtins/index.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { RObject, toJSON } from '../../../engine/rego/value.ts';
import type { Value } from '../../../engine/rego/value.ts';
import { LiteralTerms, conformanceCases as cases } from '../../support/conformance-cases.ts';
import type { ConformanceCase as Case } from '../../support/conformance-cases.ts';

/** The literal arguments of the first call to `fn` in the module (undefined for non-literals). */
function callArgs(module: string, fn: string): Array<Value | undefined> | undefined {
  const at = module.indexOf(`${fn}(`);
  if (at < 0) return undefined;
  const t = new LiteralTerms(module, at + fn.length + 1);
  const args: Array<Value | undefined> = [];
  for (;;) {
    args.push(t.term());
    while (/\s/.test(module[t.at] as string)) t.at++;
    if (module[t.at] === ',') t.at++;
    while (/\s/.test(module[t.at] as string)) t.at++;
    if (module[t.at] === ')') return args;
  }
}

const ctxAt = (nowNs: bigint): BuiltinContext => ({ nowNs, strict: true, cache: new Map(), random: () => 0, print: () => {} });
const NOW = BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n;
const call = (name: string, args: Value[], nowNs = NOW): unknown => toJSON(lookupBuiltin(name)!.fn(args, ctxAt(nowNs)) as Value);

/** Runs every case of a directory whose builtin call has literal operands, comparing the result or the error. */
function conformance(dir: string, fn: string, arity: number, shape: (result: unknown, c: Case) => unknown = (r) => r): void {
  describe(`${dir} (conformance cases)`, () => {
    for (const c of cases(dir)) {
      const args = callArgs(c.modules[0] as string, fn)?.slice(0, arity);
      if (!args || args.some((a) => a === undefined)) continue; // operands computed by Rego: covered by the conformance runner
      it(c.note, () => {
        const run = (): unknown => shape(call(fn, args as Value[]), c);
        if (c.want_error) expect(run).toThrow(c.want_error);
        else expect(run()).toEqual(c.want_result![0]!.x);
      });
    }
  });
}

conformance('jwtbuiltins', 'io.jwt.decode', 1);
conformance('jwtdecodeverify', 'io.jwt.decode_verify', 2);
for (const dir of ['jwtverifyrsa', 'jwtverifyhs256', 'jwtverifyhs384', 'jwtverifyhs512', 'jwtverifyeddsa']) {
  for (const alg of ['rs256', 'rs384', 'rs512', 'ps256', 'ps384', 'ps512', 'es256', 'es384', 'es512', 'hs256', 'hs384', 'hs512', 'eddsa']) {
    if (cases(dir).some((c) => c.modules[0]!.includes(`io.jwt.verify_${alg}(`))) {
      describe(alg, () => conformanceFor(dir, `io.jwt.verify_${alg}`));
    }
  }
}
function conformanceFor(dir: string, fn: string): void {
  for (const c of cases(dir).filter((x) => x.modules[0]!.includes(`${fn}(`))) {
    const args = callArgs(c.modules[0] as string, fn)?.slice(0, 2);
    if (!args || args.some((a) => a === undefined)) continue;
    it(c.note, () => {
      const run = (): unknown => call(fn, args as Value[]);
      if (c.want_error) expect(run).toThrow(c.want_error);
      else expect(run()).toEqual(c.want_result![0]!.x);
    });
  }
}
conformance('jwtencodesign', 'io.jwt.encode_sign', 3);
conformance('jwtencodesignraw', 'io.jwt.encode_sign_raw', 3);
conformance('jwtencodesignheadererrors', 'io.jwt.encode_sign_raw', 3);
conformance('jwtencodesignpayloaderrors', 'io.jwt.encode_sign_raw', 3);

describe('io.jwt round trips', () => {
  const secret = 'k3y';
  const jwk = new RObject([['kty', 'oct'], ['k', Buffer.from(secret).toString('base64url')]]);
  it('encode_sign then decode_verify returns the claims for any payload', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string().filter((k) => !['exp', 'nbf', 'aud', 'iss'].includes(k)), fc.oneof(fc.string(), fc.integer(), fc.boolean())), (claims) => {
        const payload = new RObject(Object.entries(claims));
        const token = call('io.jwt.encode_sign', [RObject.fromRecord({ alg: 'HS256', typ: 'JWT' }), payload, jwk]) as string;
        const [ok, , got] = call('io.jwt.decode_verify', [token, RObject.fromRecord({ secret })]) as [boolean, unknown, unknown];
        expect(ok).toBe(true);
        expect(got).toEqual(toJSON(payload));
      }),
      { numRuns: 50 },
    );
  });
  it('exp and nbf are checked against the evaluation time from the context, never the wall clock', () => {
    const token = call('io.jwt.encode_sign', [RObject.fromRecord({ alg: 'HS256' }), RObject.fromRecord({ nbf: 100, exp: 200 }), jwk]) as string;
    const at = (s: number): boolean => (call('io.jwt.decode_verify', [token, RObject.fromRecord({ secret })], BigInt(s) * 1_000_000_000n) as [boolean])[0];
    expect([at(99), at(100), at(199), at(200)]).toEqual([false, true, true, false]);
  });
  it('signs and verifies with RSA, PSS, ECDSA and EdDSA keys given as JWKs', () => {
    const pairs: Array<[string, ReturnType<typeof generateKeyPairSync>]> = [
      ['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 })],
      ['PS384', generateKeyPairSync('rsa', { modulusLength: 2048 })],
      ['ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' })],
      ['ES512', generateKeyPairSync('ec', { namedCurve: 'P-521' })],
      ['EdDSA', generateKeyPairSync('ed25519')],
    ];
    for (const [alg, { privateKey, publicKey }] of pairs) {
      const priv = JSON.stringify(privateKey.export({ format: 'jwk' }));
      const token = call('io.jwt.encode_sign_raw', [JSON.stringify({ alg }), '{"sub":"x"}', priv]) as string;
      const pub = publicKey.export({ format: 'pem', type: 'spki' }) as string;
      expect(call(`io.jwt.verify_${alg.toLowerCase()}`, [token, pub]), alg).toBe(true);
      expect(call(`io.jwt.verify_${alg.toLowerCase()}`, [`${token.slice(0, -4)}AAAA`, pub]), alg).toBe(false);
      expect((call('io.jwt.decode_verify', [token, RObject.fromRecord({ cert: JSON.stringify(publicKey.export({ format: 'jwk' })) })]) as [boolean])[0]).toBe(true);
    }
  });
  it('rejects unknown constraints', () => {
    expect(() => call('io.jwt.decode_verify', ['a.b.c', RObject.fromRecord({ secret: 'x', color: 'red' })])).toThrow('unknown token validation constraint');
  });
});
