// What signing a commit needs: a function from payload bytes to an armored detached signature.
export type SigningFormat = 'ssh' | 'openpgp';

export interface Signer {
  readonly format: SigningFormat;
  /** A short description of the key for logs: `ssh-ed25519 SHA256:…` or an OpenPGP fingerprint. */
  readonly keyId: string;
  sign(payload: Buffer): Promise<string>;
}
