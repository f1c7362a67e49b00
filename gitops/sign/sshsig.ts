// SSH signatures in the `sshsig` format (OpenSSH PROTOCOL.sshsig) that git uses with gpg.format=ssh.
// Written on node:crypto because no npm library implements sshsig; Ed25519 keys only.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { InputError } from '../../engine/errors.ts';
import type { Signer } from './signer.ts';

const MAGIC = Buffer.from('SSHSIG');
const KEY_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
const ED25519 = 'ssh-ed25519';

// ── SSH wire encoding ──────────────────────────────────────────────────────────────────────────

function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

function uint32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

class WireReader {
  private at = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}
  bytes(n: number): Buffer {
    if (this.at + n > this.buf.length) throw new InputError(`truncated ${this.what}`, this.what);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  uint32(): number {
    return this.bytes(4).readUInt32BE(0);
  }
  string(): Buffer {
    return this.bytes(this.uint32());
  }
  text(): string {
    return this.string().toString('utf8');
  }
}

// ── Keys ───────────────────────────────────────────────────────────────────────────────────────

export interface SshEd25519Key {
  publicKey: Buffer;
  privateKey: KeyObject;
  comment: string;
}

/** `ssh-ed25519 AAAA…` public key blob: string keytype + string key. */
export function publicKeyBlob(publicKey: Buffer): Buffer {
  return Buffer.concat([sshString(ED25519), sshString(publicKey)]);
}

/** The `ssh-ed25519 AAAA… comment` line of an authorized-keys / allowed-signers file. */
export function publicKeyLine(publicKey: Buffer, comment = ''): string {
  return `${ED25519} ${publicKeyBlob(publicKey).toString('base64')}${comment ? ` ${comment}` : ''}`;
}

/** `SHA256:…` as `ssh-keygen -l` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function pemBody(text: string, label: string, where: string): Buffer {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(text);
  if (!match) throw new InputError(`expected a "-----BEGIN ${label}-----" block`, where);
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}

function ed25519KeyObjects(seed: Buffer, publicKey: Buffer): KeyObject {
  return createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: publicKey.toString('base64url') },
    format: 'jwk',
  });
}

const publicKeyObjects = new Map<string, KeyObject>();

/** Audits verify thousands of signatures by a handful of keys: build each KeyObject once. */
function ed25519PublicKeyObject(publicKey: Buffer): KeyObject {
  const x = publicKey.toString('base64url');
  let key = publicKeyObjects.get(x);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (publicKeyObjects.size < 256) publicKeyObjects.set(x, key);
  }
  return key;
}

/** Parses an unencrypted OpenSSH-format Ed25519 private key (`-----BEGIN OPENSSH PRIVATE KEY-----`). */
export function parseOpenSshPrivateKey(text: string, where = 'signing key'): SshEd25519Key {
  const raw = pemBody(text, 'OPENSSH PRIVATE KEY', where);
  if (!raw.subarray(0, KEY_MAGIC.length).equals(KEY_MAGIC)) throw new InputError('not an OpenSSH private key', where);
  const r = new WireReader(raw.subarray(KEY_MAGIC.length), where);
  const cipher = r.text();
  const kdf = r.text();
  r.string();
  if (cipher !== 'none' || kdf !== 'none') {
    throw new InputError('the key is passphrase-protected; give arbiter an unencrypted key (ssh-keygen -p -N "")', where);
  }
  if (r.uint32() !== 1) throw new InputError('expected exactly one key in the file', where);
  r.string();
  const p = new WireReader(r.string(), where);
  if (p.uint32() !== p.uint32()) throw new InputError('corrupt private key (check bytes differ)', where);
  const type = p.text();
  if (type !== ED25519) throw new InputError(`key type ${type} is not supported; use an Ed25519 key (ssh-keygen -t ed25519)`, where);
  const publicKey = Buffer.from(p.string());
  const secret = p.string();
  if (publicKey.length !== 32 || secret.length !== 64) throw new InputError('corrupt Ed25519 key', where);
  const comment = p.text();
  return { publicKey, privateKey: ed25519KeyObjects(Buffer.from(secret.subarray(0, 32)), publicKey), comment };
}

/** A new Ed25519 key in OpenSSH format (what `ssh-keygen -t ed25519 -N ""` writes) and its public key line. */
export function generateSshKey(comment = 'arbiter'): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pub = Buffer.from(jwk.x!, 'base64url');
  void publicKey;
  const check = randomBytes(4);
  let secret = Buffer.concat([
    check,
    check,
    sshString(ED25519),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const pad: number[] = [];
  for (let i = 1; (secret.length + pad.length) % 8 !== 0; i++) pad.push(i);
  secret = Buffer.concat([secret, Buffer.from(pad)]);
  const body = Buffer.concat([
    KEY_MAGIC,
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicKeyBlob(pub)),
    sshString(secret),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g)!;
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: publicKeyLine(pub, comment),
  };
}

// ── Signatures ─────────────────────────────────────────────────────────────────────────────────

function signedData(namespace: string, hashAlgorithm: string, message: Buffer): Buffer {
  const digest = createHash(hashAlgorithm === 'sha256' ? 'sha256' : 'sha512').update(message).digest();
  return Buffer.concat([MAGIC, sshString(namespace), sshString(''), sshString(hashAlgorithm), sshString(digest)]);
}

function armor(blob: Buffer): string {
  return `-----BEGIN SSH SIGNATURE-----\n${blob.toString('base64').match(/.{1,70}/g)!.join('\n')}\n-----END SSH SIGNATURE-----\n`;
}

/** Signs `message` like `ssh-keygen -Y sign -n <namespace>` (hash sha512). */
export function signSshsig(message: Buffer, key: SshEd25519Key, namespace = 'git'): string {
  const signature = sign(null, signedData(namespace, 'sha512', message), key.privateKey);
  const blob = Buffer.concat([
    MAGIC,
    uint32(1),
    sshString(publicKeyBlob(key.publicKey)),
    sshString(namespace),
    sshString(''),
    sshString('sha512'),
    sshString(Buffer.concat([sshString(ED25519), sshString(signature)])),
  ]);
  return armor(blob);
}

export interface SshsigVerification {
  valid: boolean;
  /** The signer's public key as `ssh-ed25519 AAAA…` (present whenever the signature parses). */
  publicKey?: string;
  reason?: string;
}

/** Verifies an armored sshsig over `message` in `namespace`; says which key signed it. */
export function verifySshsig(armored: string, message: Buffer, namespace = 'git'): SshsigVerification {
  let blob: Buffer;
  try {
    blob = pemBody(armored, 'SSH SIGNATURE', 'signature');
  } catch {
    return { valid: false, reason: 'not an SSH signature' };
  }
  try {
    if (!blob.subarray(0, 6).equals(MAGIC)) return { valid: false, reason: 'bad sshsig magic' };
    const r = new WireReader(blob.subarray(6), 'signature');
    if (r.uint32() !== 1) return { valid: false, reason: 'unsupported sshsig version' };
    const keyBlob = Buffer.from(r.string());
    const ns = r.text();
    r.string();
    const hash = r.text();
    const sigBlob = new WireReader(r.string(), 'signature');
    const k = new WireReader(keyBlob, 'signature');
    const keyType = k.text();
    const publicKey = `${keyType} ${keyBlob.toString('base64')}`;
    if (keyType !== ED25519) return { valid: false, publicKey, reason: `key type ${keyType} is not supported in-process` };
    if (ns !== namespace) return { valid: false, publicKey, reason: `namespace "${ns}", expected "${namespace}"` };
    if (hash !== 'sha512' && hash !== 'sha256') return { valid: false, publicKey, reason: `hash ${hash} is not supported` };
    if (sigBlob.text() !== ED25519) return { valid: false, publicKey, reason: 'signature type does not match the key' };
    const raw = Buffer.from(sigBlob.string());
    const ok = verify(null, signedData(ns, hash, message), ed25519PublicKeyObject(Buffer.from(k.string())), raw);
    return ok ? { valid: true, publicKey } : { valid: false, publicKey, reason: 'signature does not match the commit' };
  } catch (err) {
    return { valid: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

export function sshSigner(keyText: string, where = 'signing key'): Signer {
  const key = parseOpenSshPrivateKey(keyText, where);
  return {
    format: 'ssh',
    keyId: `${ED25519} ${fingerprint(publicKeyBlob(key.publicKey))}`,
    sign: async (payload) => signSshsig(payload, key),
  };
}

// ── Allowed signers (ssh-keygen ALLOWED SIGNERS format) ────────────────────────────────────────

export interface AllowedSigner {
  principals: string[];
  /** `keytype base64` */
  publicKey: string;
  namespaces?: string[];
}

const KEY_TYPE = /^(ssh-|ecdsa-|sk-|rsa-)/;

export function parseAllowedSigners(text: string, where = 'allowed signers'): AllowedSigner[] {
  const signers: AllowedSigner[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (!line || line.startsWith('#')) continue;
    const tokens = line.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
    const principals = (tokens.shift() ?? '').split(',');
    let options: string[] = [];
    if (tokens[0] && !KEY_TYPE.test(tokens[0])) options = tokens.shift()!.split(',');
    const [type, key] = tokens;
    if (!type || !key || !KEY_TYPE.test(type)) throw new InputError(`line ${n + 1}: expected "principals [options] keytype key"`, where);
    const ns = options.find((o) => o.startsWith('namespaces='));
    signers.push({
      principals,
      publicKey: `${type} ${key}`,
      namespaces: ns ? ns.slice('namespaces='.length).replace(/"/g, '').split(',') : undefined,
    });
  }
  return signers;
}
