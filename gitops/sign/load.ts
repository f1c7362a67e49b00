// The one way a signing key file becomes a Signer (act, reconcile, serve, verify): SSH Ed25519 or an armored
// OpenPGP private key, the format given or detected from the key text.
import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../../engine/errors.ts';
import type { Signer } from './signer.ts';
import { sshSigner } from './sshsig.ts';

export const SIGNING_FORMATS = ['ssh', 'openpgp'] as const;

/** Reads `file` and builds its signer; `field` names the setting in errors (default `signingKey`). */
export async function loadSigner(file: string, options: { format?: string; field?: string } = {}): Promise<Signer> {
  const field = options.field ?? 'signingKey';
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new InputError('not a regular file', field);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read the signing key (${(err as NodeJS.ErrnoException).code ?? String(err)})`, field);
  }
  const format = options.format ?? (text.includes('BEGIN PGP PRIVATE KEY BLOCK') ? 'openpgp' : 'ssh');
  // OpenPGP (a large library) loads only for OpenPGP keys: most deployments sign with SSH
  if (format === 'openpgp') return (await import('./openpgp.ts')).openpgpSigner(text, file);
  if (format === 'ssh') return sshSigner(text, file);
  throw new InputError(`must be one of ${SIGNING_FORMATS.join(', ')}`, 'signingFormat');
}
