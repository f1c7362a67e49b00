// OpenPGP commit signatures through the `openpgp` package: a detached, armored signature over the commit payload,
// which `git verify-commit` checks with gpg.
import * as openpgp from 'openpgp';
import { InputError } from '../../engine/errors.ts';
import type { Signer } from './signer.ts';

export async function openpgpSigner(armoredKey: string, where = 'signing key'): Promise<Signer> {
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey });
  } catch (err) {
    throw new InputError(`not an armored OpenPGP private key (${err instanceof Error ? err.message : String(err)})`, where);
  }
  if (!key.isDecrypted()) throw new InputError('the OpenPGP key is passphrase-protected; export it without a passphrase for arbiter', where);
  return {
    format: 'openpgp',
    keyId: key.getFingerprint().toUpperCase(),
    async sign(payload) {
      const message = await openpgp.createMessage({ binary: payload });
      return (await openpgp.sign({ message, signingKeys: key, detached: true, format: 'armored' })) as string;
    },
  };
}

/** Reads every armored public key block in `text` (an allowed-signers file may hold some next to SSH lines). */
export async function readOpenPgpPublicKeys(text: string): Promise<openpgp.Key[]> {
  const blocks = text.match(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g) ?? [];
  const keys: openpgp.Key[] = [];
  for (const armoredKeys of blocks) keys.push(...(await openpgp.readKeys({ armoredKeys })));
  return keys;
}

export interface OpenPgpVerification {
  valid: boolean;
  /** Fingerprint of the trusted key that made the signature. */
  signer?: string;
  reason?: string;
}

/** Verifies a detached armored signature over `payload` against the trusted `keys`. */
export async function verifyOpenPgp(armoredSignature: string, payload: Buffer, keys: openpgp.Key[]): Promise<OpenPgpVerification> {
  try {
    const signature = await openpgp.readSignature({ armoredSignature });
    const issuers = signature.getSigningKeyIDs().map((id) => id.toHex());
    const trusted = keys.filter((k) => k.getKeys().some((sub) => issuers.includes(sub.getKeyID().toHex())));
    if (trusted.length === 0) return { valid: false, reason: `unknown signer (key id ${issuers.join(', ')})` };
    const message = await openpgp.createMessage({ binary: payload });
    const result = await openpgp.verify({ message, signature, verificationKeys: trusted, expectSigned: false });
    for (const s of result.signatures) {
      if (await s.verified.catch(() => false)) {
        const key = trusted.find((k) => k.getKeys().some((sub) => sub.getKeyID().equals(s.keyID)));
        return { valid: true, signer: key?.getFingerprint().toUpperCase() };
      }
    }
    return { valid: false, reason: 'signature does not match the commit' };
  } catch (err) {
    return { valid: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
