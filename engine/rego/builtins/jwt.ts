// Builtins: io.jwt.decode, io.jwt.decode_verify, io.jwt.verify_*, io.jwt.encode_sign, io.jwt.encode_sign_raw
import { constants, createHmac, createPrivateKey, createPublicKey, sign, timingSafeEqual, verify, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { register, T, BuiltinError, expectObject, expectString, OperandTypeError } from './registry.ts';
import { RObject, formatNumber, fromJSON, isNumber, stringifyJSON } from '../value.ts';
import type { RNumber, Value } from '../value.ts';

// ── algorithms ──────────────────────────────────────────────────────────────────────────────────

type Family = 'HS' | 'RS' | 'PS' | 'ES' | 'EdDSA';
interface Algorithm {
  family: Family;
  hash: string | null;
}
const ALGORITHMS: Record<string, Algorithm> = {
  HS256: { family: 'HS', hash: 'sha256' },
  HS384: { family: 'HS', hash: 'sha384' },
  HS512: { family: 'HS', hash: 'sha512' },
  RS256: { family: 'RS', hash: 'sha256' },
  RS384: { family: 'RS', hash: 'sha384' },
  RS512: { family: 'RS', hash: 'sha512' },
  PS256: { family: 'PS', hash: 'sha256' },
  PS384: { family: 'PS', hash: 'sha384' },
  PS512: { family: 'PS', hash: 'sha512' },
  ES256: { family: 'ES', hash: 'sha256' },
  ES384: { family: 'ES', hash: 'sha384' },
  ES512: { family: 'ES', hash: 'sha512' },
  EdDSA: { family: 'EdDSA', hash: null },
};

/** Node's options for each family: PSS salt as long as the hash, ECDSA signatures as raw r||s (JWS form). */
function keyOptions(alg: Algorithm, key: KeyObject, signing: boolean): Parameters<typeof verify>[2] {
  if (alg.family === 'PS') {
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: signing ? constants.RSA_PSS_SALTLEN_DIGEST : constants.RSA_PSS_SALTLEN_AUTO };
  }
  if (alg.family === 'ES') return { key, dsaEncoding: 'ieee-p1363' };
  return key;
}

function verifySignature(alg: Algorithm, data: string, signature: Buffer, key: KeyObject | string): boolean {
  if (alg.family === 'HS') {
    const mac = createHmac(alg.hash as string, key as string).update(data).digest();
    return mac.length === signature.length && timingSafeEqual(mac, signature);
  }
  if (typeof key === 'string') return false;
  try {
    return verify(alg.hash, Buffer.from(data), keyOptions(alg, key, false), signature);
  } catch {
    return false; // a key of the wrong type for the algorithm verifies nothing
  }
}

// ── decoding ────────────────────────────────────────────────────────────────────────────────────

/** Go's base64.RawURLEncoding, tolerating trailing padding as OPA does. */
function decodeBase64Url(s: string): Buffer {
  const body = s.replace(/=+$/, '');
  const bad = body.search(/[^A-Za-z0-9_-]/);
  if (bad >= 0) throw new Error(`illegal base64 data at input byte ${bad}`);
  if (body.length % 4 === 1) throw new Error(`illegal base64 data at input byte ${body.length - 1}`);
  return Buffer.from(body, 'base64url');
}

interface Token {
  header: Record<string, unknown>;
  headerValue: Value;
  payloadText: string;
  signature: Buffer;
  /** `header.payload`, the signed bytes. */
  signingInput: string;
}

function decodeToken(name: string, jwt: string): Token {
  if (!jwt.includes('.')) throw new BuiltinError(name, 'encoded JWT had no period separators');
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new BuiltinError(name, `encoded JWT must have 3 sections, found ${parts.length}`);
  const [h, p, s] = parts as [string, string, string];
  const part = (what: string, text: string): Buffer => {
    try {
      return decodeBase64Url(text);
    } catch (e) {
      throw new BuiltinError(name, `JWT ${what} had invalid encoding: ${(e as Error).message}`);
    }
  };
  const headerText = part('header', h).toString('utf8');
  const payloadText = part('payload', p).toString('utf8');
  const signature = part('signature', s);
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch {
    throw new BuiltinError(name, 'JWT header had invalid JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new BuiltinError(name, 'JWT header was not a JSON object');
  if ('enc' in header) throw new BuiltinError(name, 'JWT is a JWE object, which is not supported');
  return { header: header as Record<string, unknown>, headerValue: fromJSON(header), payloadText, signature, signingInput: `${h}.${p}` };
}

/** A nested JWT (`cty: JWT`) carries the inner token as its payload, usually as a JSON string. */
function innerToken(token: Token): string | undefined {
  if (String(token.header.cty ?? '').toUpperCase() !== 'JWT') return undefined;
  try {
    const inner = JSON.parse(token.payloadText) as unknown;
    if (typeof inner === 'string') return inner;
  } catch {
    // not JSON: the payload is the compact token itself
  }
  return token.payloadText;
}

function parsePayload(name: string, text: string): RObject {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new BuiltinError(name, 'JWT payload had invalid JSON');
  }
  const value = fromJSON(payload);
  if (!(value instanceof RObject)) throw new BuiltinError(name, 'JWT payload was not a JSON object');
  return value;
}

register({
  name: 'io.jwt.decode',
  sig: { args: [T.string], result: T.array(T.any) },
  fn([jwt]) {
    const name = 'io.jwt.decode';
    let token = decodeToken(name, expectString(name, 1, jwt as Value));
    for (let inner = innerToken(token); inner !== undefined; inner = innerToken(token)) token = decodeToken(name, inner);
    return [token.headerValue, parsePayload(name, token.payloadText), token.signature.toString('hex')];
  },
});

// ── verification keys: PEM certificate, PEM public key, or JWK / JWK set ────────────────────────

function keysFromCertificate(name: string, certificate: string): KeyObject[] {
  const pem = /^\s*-----BEGIN ([^-]+)-----\r?\n([\s\S]*?)-----END \1-----[ \t]*(\r?\n)?/.exec(certificate);
  if (pem) {
    if (certificate.slice(pem.index + pem[0].length).length > 0) throw new BuiltinError(name, 'extra data after a PEM certificate block');
    const type = pem[1] as string;
    const der = Buffer.from((pem[2] as string).replace(/\s+/g, ''), 'base64');
    if (type === 'CERTIFICATE') {
      try {
        return [new X509Certificate(der).publicKey];
      } catch (e) {
        throw new BuiltinError(name, `failed to parse a PEM certificate: ${(e as Error).message}`);
      }
    }
    if (type === 'PUBLIC KEY') {
      try {
        return [createPublicKey({ key: der, format: 'der', type: 'spki' })];
      } catch (e) {
        throw new BuiltinError(name, `failed to parse a PEM public key: ${(e as Error).message}`);
      }
    }
    throw new BuiltinError(name, 'failed to extract a Key from the PEM certificate');
  }
  if (/^\s*-----BEGIN/.test(certificate)) throw new BuiltinError(name, 'failed to extract a Key from the PEM certificate');
  let jwks: unknown;
  try {
    jwks = JSON.parse(certificate);
  } catch (e) {
    throw new BuiltinError(name, `failed to parse a JWK key (set): ${(e as Error).message}`);
  }
  const list = jwks && typeof jwks === 'object' && Array.isArray((jwks as { keys?: unknown }).keys) ? (jwks as { keys: unknown[] }).keys : [jwks];
  const keys: KeyObject[] = [];
  for (const jwk of list) {
    try {
      keys.push(createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }));
    } catch {
      // a key this runtime cannot use is skipped, as a JWK set may mix key types
    }
  }
  if (keys.length === 0) throw new BuiltinError(name, 'failed to parse a JWK key (set): no usable keys');
  return keys;
}

for (const [algName, alg] of Object.entries(ALGORITHMS)) {
  const name = `io.jwt.verify_${algName.toLowerCase()}`;
  register({
    name,
    sig: { args: [T.string, T.string], result: T.boolean },
    fn([jwt, key]) {
      const token = decodeToken(name, expectString(name, 1, jwt as Value));
      const secretOrCert = expectString(name, 2, key as Value);
      if (alg.family === 'HS') return verifySignature(alg, token.signingInput, token.signature, secretOrCert);
      return keysFromCertificate(name, secretOrCert).some((k) => verifySignature(alg, token.signingInput, token.signature, k));
    },
  });
}

// ── decode_verify ───────────────────────────────────────────────────────────────────────────────

interface Constraints {
  keys?: KeyObject[];
  secret?: string;
  alg?: string;
  iss?: string;
  aud?: string;
  /** Evaluation time in nanoseconds, as an exact decimal. */
  time: string;
}

const CONSTRAINT_KEYS = new Set(['cert', 'secret', 'alg', 'iss', 'aud', 'time']);

function parseConstraints(name: string, c: RObject, nowNs: bigint): Constraints {
  const out: Constraints = { time: nowNs.toString() };
  for (const [k, v] of c.entries()) {
    if (typeof k !== 'string' || !CONSTRAINT_KEYS.has(k)) throw new BuiltinError(name, `unknown token validation constraint: ${stringifyJSON(k)}`);
    if (k === 'time') {
      if (!isNumber(v)) throw new BuiltinError(name, 'token time constraint: must be a number');
      out.time = decimalText(v);
      continue;
    }
    if (typeof v !== 'string') throw new BuiltinError(name, `${k} constraint: must be a string`);
    if (k === 'cert') out.keys = keysFromCertificate(name, v);
    else if (k === 'secret') out.secret = v;
    else out[k as 'alg' | 'iss' | 'aud'] = v;
  }
  if (out.keys && out.secret !== undefined) throw new BuiltinError(name, 'duplicate key constraints');
  if (!out.keys && out.secret === undefined) throw new BuiltinError(name, 'no key constraint provided');
  return out;
}

function decimalText(n: RNumber): string {
  return formatNumber(n);
}

const SCALE = 12;

/** An exact decimal text (possibly with exponent) times 10^shift, scaled by 10^SCALE, as a bigint: exact comparisons. */
function scaled(text: string, shift: number): bigint {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return 0n;
  const digits = `${m[2] ?? ''}${m[3] ?? ''}` || '0';
  const exp = Number(m[4] ?? 0) - (m[3] ?? '').length + shift + SCALE;
  const v = exp >= 0 ? BigInt(digits) * 10n ** BigInt(exp) : BigInt(digits) / 10n ** BigInt(-exp);
  return m[1] ? -v : v;
}

const UNVERIFIED: Value = [false, new RObject(), new RObject()];

register({
  name: 'io.jwt.decode_verify',
  sig: { args: [T.string, T.object(T.string, T.any)], result: T.array(T.any) },
  fn([jwt, constraintsArg], ctx) {
    const name = 'io.jwt.decode_verify';
    const text = expectString(name, 1, jwt as Value);
    const constraints = parseConstraints(name, expectObject(name, 2, constraintsArg as Value), ctx.nowNs);
    let token = decodeToken(name, text);
    // every level of a nested token must verify; the innermost one is returned
    for (;;) {
      const algName = token.header.alg;
      if (typeof algName !== 'string') return UNVERIFIED;
      const alg = ALGORITHMS[algName];
      if (!alg) return UNVERIFIED;
      if (constraints.alg !== undefined && constraints.alg !== algName) return UNVERIFIED;
      if (Array.isArray(token.header.crit) && token.header.crit.length > 0) return UNVERIFIED;
      const ok =
        alg.family === 'HS'
          ? constraints.secret !== undefined && verifySignature(alg, token.signingInput, token.signature, constraints.secret)
          : (constraints.keys ?? []).some((k) => verifySignature(alg, token.signingInput, token.signature, k));
      if (!ok) return UNVERIFIED;
      const inner = innerToken(token);
      if (inner === undefined) break;
      token = decodeToken(name, inner);
    }
    const payload = parsePayload(name, token.payloadText);
    const now = scaled(constraints.time, 0);
    const exp = payload.get('exp');
    if (exp !== undefined) {
      if (!isNumber(exp)) throw new BuiltinError(name, 'exp value must be a number');
      if (now >= scaled(decimalText(exp), 9)) return UNVERIFIED;
    }
    const nbf = payload.get('nbf');
    if (nbf !== undefined) {
      if (!isNumber(nbf)) throw new BuiltinError(name, 'nbf value must be a number');
      if (now < scaled(decimalText(nbf), 9)) return UNVERIFIED;
    }
    if (constraints.iss !== undefined && payload.get('iss') !== constraints.iss) return UNVERIFIED;
    const aud = payload.get('aud');
    if (constraints.aud === undefined) {
      if (aud !== undefined) return UNVERIFIED;
    } else if (!(aud === constraints.aud || (Array.isArray(aud) && aud.includes(constraints.aud)))) return UNVERIFIED;
    return [true, token.headerValue, payload];
  },
});

// ── signing ─────────────────────────────────────────────────────────────────────────────────────

function signingKey(name: string, jwk: unknown, alg: Algorithm): KeyObject | Buffer {
  if (alg.family === 'HS') {
    const k = (jwk as { k?: unknown } | null)?.k;
    if (typeof k !== 'string') throw new BuiltinError(name, 'failed to parse JWK: missing "k" for a symmetric key');
    return Buffer.from(k, 'base64url');
  }
  try {
    return createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch (e) {
    throw new BuiltinError(name, `failed to parse JWK: ${(e as Error).message}`);
  }
}

/** Sign the given header and payload texts (already JSON) with a JWK, after OPA's header and payload checks. */
function signCompact(name: string, headerText: string, payloadText: string, keyText: string): string {
  let header: unknown;
  if (headerText === '') throw new BuiltinError(name, "missing or invalid 'alg' header: cannot parse JSON: cannot parse empty string");
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    if (headerText.trimStart().startsWith('{')) throw new BuiltinError(name, `missing or invalid 'alg' header: cannot parse JSON: ${(e as Error).message}`);
  }
  const algName = header && typeof header === 'object' ? (header as { alg?: unknown }).alg : undefined;
  if (typeof algName !== 'string') throw new BuiltinError(name, `missing or invalid 'alg' header: jwsbb: header "alg" not found`);
  const alg = ALGORITHMS[algName];
  if (!alg) throw new BuiltinError(name, `unknown JWS algorithm: ${algName}`);
  const typ = (header as { typ?: unknown }).typ;
  if (typ === 'JWT') {
    let payload: unknown;
    try {
      payload = JSON.parse(payloadText);
    } catch {
      payload = undefined;
    }
    if (payload === null || typeof payload !== 'object') throw new BuiltinError(name, 'type is JWT but payload is not JSON');
  }
  let jwk: unknown;
  try {
    jwk = JSON.parse(keyText);
  } catch (e) {
    throw new BuiltinError(name, `failed to parse JWK: ${(e as Error).message}`);
  }
  const key = signingKey(name, jwk, alg);
  const input = `${Buffer.from(headerText).toString('base64url')}.${Buffer.from(payloadText).toString('base64url')}`;
  const signature =
    alg.family === 'HS'
      ? createHmac(alg.hash as string, key as Buffer).update(input).digest()
      : sign(alg.hash, Buffer.from(input), keyOptions(alg, key as KeyObject, true) as Parameters<typeof sign>[2]);
  return `${input}.${signature.toString('base64url')}`;
}

register({
  name: 'io.jwt.encode_sign_raw',
  sig: { args: [T.string, T.string, T.string], result: T.string },
  fn([header, payload, key]) {
    const name = 'io.jwt.encode_sign_raw';
    return signCompact(name, expectString(name, 1, header as Value), expectString(name, 2, payload as Value), expectString(name, 3, key as Value));
  },
});

register({
  name: 'io.jwt.encode_sign',
  sig: { args: [T.object(T.string, T.any), T.object(T.string, T.any), T.object(T.string, T.any)], result: T.string },
  fn([header, payload, key]) {
    const name = 'io.jwt.encode_sign';
    const objects = [header, payload, key].map((v, i) => {
      if (!(v instanceof RObject)) throw new OperandTypeError(name, i + 1, 'object', v as Value);
      return stringifyJSON(v);
    }) as [string, string, string];
    return signCompact(name, ...objects);
  },
});
