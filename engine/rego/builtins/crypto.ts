// Builtins: crypto.md5, crypto.sha1, crypto.sha256, crypto.hmac.*, crypto.x509.*, crypto.parse_private_keys
import { createHash, createHmac, createPrivateKey, createPublicKey, timingSafeEqual, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { register, T, BuiltinError, OperandTypeError, expectString } from './registry.ts';
import { fromJSON, isNumber, normalizeNumber, RObject, toDouble } from '../value.ts';
import type { Value } from '../value.ts';
import { Asn1Error, altNames, children, oid, pkixName, readAll, readTlv } from './crypto-asn1.ts';
import type { Tlv } from './crypto-asn1.ts';

// ── digests and MACs ────────────────────────────────────────────────────────────────────────────

for (const alg of ['md5', 'sha1', 'sha256'] as const) {
  const name = `crypto.${alg}`;
  register({
    name,
    sig: { args: [T.string], result: T.string },
    fn: ([x]) => createHash(alg).update(expectString(name, 1, x as Value), 'utf8').digest('hex'),
  });
}

for (const alg of ['md5', 'sha1', 'sha256', 'sha512'] as const) {
  const name = `crypto.hmac.${alg}`;
  register({
    name,
    sig: { args: [T.string, T.string], result: T.string },
    fn([x, key]) {
      const message = expectString(name, 1, x as Value);
      return createHmac(alg, expectString(name, 2, key as Value)).update(message, 'utf8').digest('hex');
    },
  });
}

register({
  name: 'crypto.hmac.equal',
  sig: { args: [T.string, T.string], result: T.boolean },
  fn([a, b]) {
    const x = Buffer.from(expectString('crypto.hmac.equal', 1, a as Value), 'utf8');
    const y = Buffer.from(expectString('crypto.hmac.equal', 2, b as Value), 'utf8');
    // constant time for equal lengths, as Go's hmac.Equal
    return x.length === y.length && timingSafeEqual(x, y);
  },
});

// ── input decoding: PEM text, or standard base64 of PEM or DER (OPA's getX509CertsFromString) ───

/** Go's base64.StdEncoding.DecodeString: strict alphabet and padding, newlines ignored. */
export function decodeStdBase64(s: string): Buffer {
  const clean = s.replace(/[\r\n]/g, '');
  const bad = clean.search(/[^A-Za-z0-9+/=]/);
  const pad = clean.indexOf('=');
  if (bad >= 0) throw new Error(`illegal base64 data at input byte ${bad}`);
  if (clean.length % 4 !== 0 || (pad >= 0 && (pad < clean.length - 2 || !/^=*$/.test(clean.slice(pad))))) {
    throw new Error(`illegal base64 data at input byte ${pad >= 0 ? pad : Math.floor(clean.length / 4) * 4}`);
  }
  return Buffer.from(clean, 'base64');
}

interface PemBlock {
  type: string;
  der: Buffer;
}

function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([^-]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const body = (m[2] as string).split(/\r?\n/).filter((l) => l.trim() !== '' && !l.includes(':')).join('');
    out.push({ type: m[1] as string, der: Buffer.from(body, 'base64') });
  }
  return out;
}

type Decoded = { pem: PemBlock[] } | { der: Buffer };

function decodePemOrBase64(name: string, s: string): Decoded {
  if (s.startsWith('-----BEGIN')) return { pem: pemBlocks(s) };
  let raw: Buffer;
  try {
    raw = decodeStdBase64(s);
  } catch (e) {
    throw new BuiltinError(name, (e as Error).message);
  }
  if (raw.subarray(0, 10).toString('latin1') === '-----BEGIN') return { pem: pemBlocks(raw.toString('utf8')) };
  return { der: raw };
}

// ── certificates ────────────────────────────────────────────────────────────────────────────────

function asn1Time(t: Tlv): string {
  const s = Buffer.from(t.content).toString('latin1');
  // UTCTime has a two-digit year: 50–99 → 19xx (RFC 5280)
  const full = t.tag === 0x17 ? `${Number(s.slice(0, 2)) >= 50 ? '19' : '20'}${s}` : s;
  const [y, mo, d, h, mi, se] = [0, 4, 6, 8, 10, 12].map((i, k) => full.slice(i, i + (k === 0 ? 4 : 2)));
  return `${y}-${mo}-${d}T${h}:${mi}:${se}Z`;
}

function derInteger(t: Tlv): Value {
  return normalizeNumber(BigInt(`0x${Buffer.from(t.content).toString('hex') || '0'}`));
}

interface ParsedCert {
  x509: X509Certificate;
  notBefore: string;
  notAfter: string;
  isCA: boolean;
  value: Value;
}

/** One DER certificate as the subset of Go's x509.Certificate JSON that policies use. */
function parseCertificate(der: Uint8Array): ParsedCert {
  const x509 = new X509Certificate(der);
  const [tbs] = children(readTlv(der, 0).tlv);
  if (!tbs) throw new Asn1Error('no tbsCertificate');
  const fields = children(tbs);
  let i = 0;
  let version = 1;
  if (fields[0]?.tag === 0xa0) {
    version = Number(derInteger(children(fields[0])[0] as Tlv)) + 1;
    i = 1;
  }
  const [serial, , issuer, validity, subject] = fields.slice(i, i + 5) as Tlv[];
  const [nb, na] = children(validity as Tlv) as [Tlv, Tlv];
  const sans = { DNSNames: null, EmailAddresses: null, IPAddresses: null, URIStrings: null } as ReturnType<typeof altNames>;
  let isCA = false;
  let basicConstraintsValid = false;
  const extensions = fields.find((f) => f.tag === 0xa3);
  for (const ext of extensions ? children(children(extensions)[0] as Tlv) : []) {
    const parts = children(ext);
    const id = oid(parts[0] as Tlv);
    const body = readTlv((parts[parts.length - 1] as Tlv).content, 0).tlv;
    if (id === '2.5.29.17') Object.assign(sans, altNames(body));
    if (id === '2.5.29.19') {
      basicConstraintsValid = true;
      isCA = children(body)[0]?.tag === 0x01 && children(body)[0]?.content[0] !== 0;
    }
  }
  const notBefore = asn1Time(nb);
  const notAfter = asn1Time(na);
  const value = fromJSON({
    Raw: Buffer.from(der).toString('base64'),
    Version: version,
    Issuer: pkixName(issuer as Tlv),
    Subject: pkixName(subject as Tlv),
    NotBefore: notBefore,
    NotAfter: notAfter,
    IsCA: isCA,
    BasicConstraintsValid: basicConstraintsValid,
    ...sans,
  });
  (value as RObject).set('SerialNumber', derInteger(serial as Tlv));
  return { x509, notBefore, notAfter, isCA, value };
}

function parseCertificates(name: string, input: string): ParsedCert[] {
  const decoded = decodePemOrBase64(name, input);
  const ders = 'der' in decoded ? null : decoded.pem.filter((b) => b.type === 'CERTIFICATE').map((b) => b.der);
  try {
    if (ders) return ders.map(parseCertificate);
    return readAll((decoded as { der: Buffer }).der).map((t) => parseCertificate(t.raw));
  } catch {
    throw new BuiltinError(name, 'x509: malformed certificate');
  }
}

register({
  name: 'crypto.x509.parse_certificates',
  sig: { args: [T.string], result: T.array(T.object(T.string, T.any)) },
  fn([certs]) {
    const name = 'crypto.x509.parse_certificates';
    return parseCertificates(name, expectString(name, 1, certs as Value)).map((c) => c.value);
  },
});

/** Leaf-to-root chain check at the evaluation time: issuer names, signatures, CA flags and validity windows. */
function verifyChain(certs: ParsedCert[], nowNs: bigint): boolean {
  if (certs.length < 2) return false;
  const now = new Date(Number(nowNs / 1_000_000n)).toISOString();
  const chain = [...certs].reverse();
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i] as ParsedCert;
    if (now < cert.notBefore || now > cert.notAfter) return false;
    const issuer = chain[i + 1];
    if (!issuer) break;
    if (!issuer.isCA || !cert.x509.checkIssued(issuer.x509) || !cert.x509.verify(issuer.x509.publicKey)) return false;
  }
  return true;
}

register({
  name: 'crypto.x509.parse_and_verify_certificates',
  sig: { args: [T.string], result: T.array(T.any) },
  fn([certs], ctx) {
    const name = 'crypto.x509.parse_and_verify_certificates';
    let parsed: ParsedCert[];
    try {
      parsed = parseCertificates(name, expectString(name, 1, certs as Value));
    } catch (e) {
      if (e instanceof BuiltinError && e.code === 'eval_type_error') throw e;
      return [false, []];
    }
    if (!verifyChain(parsed, ctx.nowNs)) return [false, []];
    return [true, [...parsed].reverse().map((c) => c.value)];
  },
});

/** Hostname match as Go's VerifyHostname for DNS SANs: exact (case-insensitive) or one leading `*.` label. */
function matchesDnsName(sans: Value, host: string): boolean {
  if (!Array.isArray(sans)) return false;
  const h = host.toLowerCase().replace(/\.$/, '');
  return sans.some((s) => {
    if (typeof s !== 'string') return false;
    const pattern = s.toLowerCase();
    if (pattern.startsWith('*.')) return h.includes('.') && h.slice(h.indexOf('.')) === pattern.slice(1);
    return pattern === h;
  });
}

register({
  name: 'crypto.x509.parse_and_verify_certificates_with_options',
  sig: { args: [T.string, T.object(T.string, T.any)], result: T.array(T.any) },
  fn([certs, opts], ctx) {
    const name = 'crypto.x509.parse_and_verify_certificates_with_options';
    const input = expectString(name, 1, certs as Value);
    if (!(opts instanceof RObject)) throw new OperandTypeError(name, 2, 'object', (opts ?? null) as Value);
    for (const k of opts.keys()) {
      if (!['DNSName', 'CurrentTime', 'MaxConstraintComparisons', 'KeyUsages'].includes(String(k))) throw new BuiltinError(name, `invalid key option: ${String(k)}`);
    }
    const current = opts.get('CurrentTime');
    const nowNs = current !== undefined && isNumber(current) ? BigInt(Math.trunc(toDouble(current))) : ctx.nowNs;
    let parsed: ParsedCert[];
    try {
      parsed = parseCertificates(name, input);
    } catch {
      return [false, []];
    }
    if (!verifyChain(parsed, nowNs)) return [false, []];
    const dns = opts.get('DNSName');
    const leaf = parsed[parsed.length - 1] as ParsedCert;
    if (typeof dns === 'string' && !matchesDnsName((leaf.value as RObject).get('DNSNames') ?? null, dns)) return [false, []];
    return [true, [...parsed].reverse().map((c) => c.value)];
  },
});

register({
  name: 'crypto.x509.parse_certificate_request',
  sig: { args: [T.string], result: T.object(T.string, T.any) },
  fn([csr]) {
    const name = 'crypto.x509.parse_certificate_request';
    const decoded = decodePemOrBase64(name, expectString(name, 1, csr as Value));
    const der = 'der' in decoded ? decoded.der : decoded.pem.find((b) => b.type === 'CERTIFICATE REQUEST' || b.type === 'NEW CERTIFICATE REQUEST')?.der;
    if (!der) throw new BuiltinError(name, 'invalid PEM-encoded certificate signing request');
    try {
      const [info] = children(readTlv(der, 0).tlv);
      const [version, subject, spki] = children(info as Tlv) as [Tlv, Tlv, Tlv];
      const publicKey = createPublicKey({ key: Buffer.from(spki.raw), format: 'der', type: 'spki' });
      return fromJSON({
        Raw: Buffer.from(der).toString('base64'),
        Version: Number(derInteger(version)),
        Subject: pkixName(subject),
        PublicKeyAlgorithm: publicKeyAlgorithm(publicKey),
        PublicKey: publicKey.export({ format: 'jwk' }),
      });
    } catch {
      throw new BuiltinError(name, 'asn1: structure error: malformed certificate request');
    }
  },
});

/** Go's x509.PublicKeyAlgorithm numbering. */
function publicKeyAlgorithm(key: KeyObject): number {
  return { rsa: 1, dsa: 2, ec: 3, ed25519: 4 }[key.asymmetricKeyType as string] ?? 0;
}

// ── private keys ────────────────────────────────────────────────────────────────────────────────

function privateKeyJwk(block: PemBlock): Value {
  const key =
    block.type === 'RSA PRIVATE KEY'
      ? createPrivateKey({ key: block.der, format: 'der', type: 'pkcs1' })
      : block.type === 'EC PRIVATE KEY'
        ? createPrivateKey({ key: block.der, format: 'der', type: 'sec1' })
        : createPrivateKey({ key: block.der, format: 'der', type: 'pkcs8' });
  return fromJSON(key.export({ format: 'jwk' }));
}

register({
  name: 'crypto.x509.parse_rsa_private_key',
  sig: { args: [T.string], result: T.object(T.string, T.any) },
  fn([pem]) {
    const name = 'crypto.x509.parse_rsa_private_key';
    const decoded = decodePemOrBase64(name, expectString(name, 1, pem as Value));
    const block = 'pem' in decoded ? decoded.pem[0] : undefined;
    if (!block) throw new BuiltinError(name, 'failed to parse PEM block containing the key');
    try {
      return privateKeyJwk({ type: 'RSA PRIVATE KEY', der: block.der });
    } catch (e) {
      throw new BuiltinError(name, (e as Error).message);
    }
  },
});

register({
  name: 'crypto.parse_private_keys',
  sig: { args: [T.string], result: T.array(T.object(T.string, T.any)) },
  fn([keys]) {
    const name = 'crypto.parse_private_keys';
    const input = expectString(name, 1, keys as Value);
    if (input === '') return null;
    let decoded: Decoded;
    try {
      decoded = decodePemOrBase64(name, input);
    } catch {
      return [];
    }
    if (!('pem' in decoded)) return [];
    const out: Value[] = [];
    for (const block of decoded.pem.filter((b) => b.type.endsWith('PRIVATE KEY'))) {
      try {
        out.push(privateKeyJwk(block));
      } catch (e) {
        throw new BuiltinError(name, (e as Error).message);
      }
    }
    return out;
  },
});

register({
  name: 'crypto.x509.parse_keypair',
  sig: { args: [T.string, T.string], result: T.object(T.string, T.any) },
  fn([cert, key]) {
    const name = 'crypto.x509.parse_keypair';
    const certs = decodePemOrBase64(name, expectString(name, 1, cert as Value));
    const keys = decodePemOrBase64(name, expectString(name, 2, key as Value));
    const certDers = 'pem' in certs ? certs.pem.filter((b) => b.type === 'CERTIFICATE').map((b) => b.der) : [certs.der];
    const keyBlock = 'pem' in keys ? keys.pem.find((b) => b.type.endsWith('PRIVATE KEY')) : undefined;
    if (certDers.length === 0) throw new BuiltinError(name, 'tls: failed to find any PEM data in certificate input');
    if (!keyBlock) throw new BuiltinError(name, 'tls: failed to find any PEM data in key input');
    let leaf: ParsedCert;
    let privateKey: Value;
    try {
      leaf = parseCertificate(certDers[0] as Buffer);
      privateKey = privateKeyJwk(keyBlock);
    } catch (e) {
      throw new BuiltinError(name, `tls: ${(e as Error).message}`);
    }
    const pub = createPublicKey(createPrivateKey({ key: keyBlock.der, format: 'der', type: keyBlock.type === 'RSA PRIVATE KEY' ? 'pkcs1' : keyBlock.type === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs8' }));
    if (!pub.equals(leaf.x509.publicKey)) throw new BuiltinError(name, 'tls: private key does not match public key');
    return fromJSON({ Certificate: certDers.map((d) => d.toString('base64')), PrivateKey: privateKey, Leaf: null });
  },
});
