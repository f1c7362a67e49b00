import { describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import '../../../engine/rego/builtins/index.ts';
import { lookupBuiltin } from '../../../engine/rego/builtins/index.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { RObject, toJSON } from '../../../engine/rego/value.ts';
import type { Value } from '../../../engine/rego/value.ts';
import { conformanceCases as cases } from '../../support/conformance-cases.ts';
import type { ConformanceCase as Case } from '../../support/conformance-cases.ts';

/** A Rego string constant `name := "..."` or `name := \`...\`` from a case's module. */
function constant(c: Case, name: string): string {
  const m = new RegExp(`${name} := ("(?:[^"\\\\]|\\\\.)*"|\`[^\`]*\`)`).exec(c.modules[0] as string);
  if (!m) throw new Error(`${c.note}: no constant ${name}`);
  const lit = m[1] as string;
  return lit.startsWith('`') ? lit.slice(1, -1) : (JSON.parse(lit) as string);
}

const ctx = (nowNs = BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n): BuiltinContext => ({
  nowNs,
  strict: true,
  cache: new Map(),
  random: () => 0.5,
  print: () => {},
});
const call = (name: string, ...args: Value[]): unknown => toJSON(lookupBuiltin(name)!.fn(args, ctx()) as Value);

describe('crypto digests and HMACs', () => {
  it('match the conformance values', () => {
    expect(call('crypto.md5', 'lorem ipsum')).toBe('80a751fde577028640c419000e33eba6');
    for (const alg of ['md5', 'sha1', 'sha256', 'sha512']) {
      for (const c of cases(`cryptohmac${alg}`)) {
        const input = c.input as { message: string; key: string };
        expect([call(`crypto.hmac.${alg}`, input.message, input.key)], c.note).toEqual(c.want_result![0]!.x);
      }
    }
  });
  it('sha256 agrees with node for any unicode string', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => call('crypto.sha256', s) === createHash('sha256').update(s).digest('hex')));
  });
  it('hmac.equal is string equality', () => {
    for (const c of cases('cryptohmacequal')) {
      const input = c.input as { mac1: string; mac2: string };
      expect(call('crypto.hmac.equal', input.mac1, input.mac2), c.note).toEqual((c.want_result![0]!.x as unknown[])[0]);
    }
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => call('crypto.hmac.equal', a, b) === (a === b)));
  });
  it('rejects a non-string operand as a type error', () => {
    expect(() => call('crypto.sha1', 1)).toThrow('crypto.sha1: operand 1 must be string but got number');
  });
});

describe('crypto.x509.parse_certificates', () => {
  for (const c of cases('cryptox509parsecertificates')) {
    it(c.note, () => {
      const run = (): unknown => call('crypto.x509.parse_certificates', constant(c, 'certs'));
      if (c.want_error) return void expect(run).toThrow(c.want_error);
      const certs = run() as Array<{ Subject: { CommonName: string }; URIStrings: unknown }>;
      const want = c.want_result![0]!.x;
      if (c.modules[0]!.includes('URIStrings')) expect(certs[0]!.URIStrings).toEqual(want);
      else expect(certs.map((x) => x.Subject.CommonName)).toEqual(want);
    });
  }
});

describe('crypto.x509.parse_and_verify_certificates', () => {
  for (const c of cases('cryptox509parseandverifycertificates')) {
    it(c.note, () => {
      const [valid, certs] = call('crypto.x509.parse_and_verify_certificates', constant(c, 'certs')) as [boolean, Array<Record<string, any>>];
      const got = { valid, certs: certs.map((x) => ({ CN: x.Subject.CommonName, DNS: x.DNSNames, URI: x.URIStrings })) };
      expect(got).toEqual(c.want_result![0]!.x);
    });
  }
  it('is not valid outside the certificates validity window (time from the context)', () => {
    const c = cases('cryptox509parseandverifycertificates')[0]!;
    const late = lookupBuiltin('crypto.x509.parse_and_verify_certificates')!.fn([constant(c, 'certs')], ctx(BigInt(Date.UTC(2040, 0, 1)) * 1_000_000n));
    expect(toJSON(late as Value)).toEqual([false, []]);
  });
  it('is not valid when the chain is given leaf first', () => {
    const c = cases('cryptox509parseandverifycertificates')[0]!;
    const pems = constant(c, 'certs').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!;
    expect(call('crypto.x509.parse_and_verify_certificates', pems.reverse().join('\n'))).toEqual([false, []]);
  });
});

describe('crypto.x509.parse_certificate_request', () => {
  for (const c of cases('cryptox509parsecertificaterequest')) {
    it(c.note, () => {
      const run = (): unknown => call('crypto.x509.parse_certificate_request', constant(c, 'csr'));
      if (c.want_error) return void expect(run).toThrow(c.want_error);
      expect((run() as { Subject: { CommonName: string } }).Subject.CommonName).toEqual(c.want_result![0]!.x);
    });
  }
});

describe('private keys', () => {
  it('parse_rsa_private_key returns the JWK', () => {
    for (const c of cases('cryptox509parsersaprivatekey')) {
      const arg = c.modules[0]!.includes('pem :=') ? constant(c, 'pem') : 'invalid';
      const run = (): unknown => call('crypto.x509.parse_rsa_private_key', arg);
      if (c.want_error) expect(run, c.note).toThrow(c.want_error);
      else expect(run(), c.note).toEqual(c.want_result![0]!.x);
    }
  });
  it('parse_private_keys: one key, none for junk, null for empty', () => {
    const [valid] = cases('cryptoparsersaprivatekeys');
    expect((call('crypto.parse_private_keys', constant(valid!, 'pem')) as unknown[]).length).toBe(1);
    expect(call('crypto.parse_private_keys', 'nope')).toEqual([]);
    expect(call('crypto.parse_private_keys', '')).toBeNull();
  });
  it('parse_keypair returns the DER certificate and rejects a key of another pair', () => {
    for (const c of cases('cryptox509parsekeypair')) {
      const { cert, key } = c.input as { cert: string; key: string };
      const pair = call('crypto.x509.parse_keypair', cert, key) as { Certificate: string[] };
      expect(pair.Certificate[0], c.note).toEqual(c.want_result![0]!.x);
    }
    const { cert } = cases('cryptox509parsekeypair')[0]!.input as { cert: string };
    const other = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    expect(() => call('crypto.x509.parse_keypair', cert, other)).toThrow('private key does not match');
  });
});


describe('crypto.x509.parse_and_verify_certificates_with_options', () => {
  const certs = (): string => constant(cases('cryptox509parseandverifycertificates')[0]!, 'certs');
  const run = (opts: Record<string, Value>): unknown => call('crypto.x509.parse_and_verify_certificates_with_options', certs(), RObject.fromRecord(opts));
  it('checks the leaf DNS name and the given current time', () => {
    const inside = Date.UTC(2024, 0, 1) * 1_000_000;
    expect((run({ DNSName: 'notarealsite.opa.localhost', CurrentTime: inside }) as [boolean])[0]).toBe(true);
    expect(run({ DNSName: 'elsewhere.example.com', CurrentTime: inside })).toEqual([false, []]);
    expect(run({ CurrentTime: Date.UTC(2040, 0, 1) * 1_000_000 })).toEqual([false, []]);
  });
  it('rejects unknown options', () => {
    expect(() => run({ Colour: 'red' })).toThrow('invalid key option');
  });
});
