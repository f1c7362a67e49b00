// The signing key a scenario run uses: an Ed25519 key from stock ssh-keygen and the allowed-signers file that makes
// stock `git verify-commit` trust it (gpg.format=ssh).
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InternalError } from '../../engine/errors.ts';

const run = promisify(execFile);

export interface ScenarioSigningKey {
  privateKeyFile: string;
  publicKey: string;
  allowedSignersFile: string;
}

/** Generates a key in `dir`; the principal is the committer address arbiter signs as. */
export async function generateSigningKey(dir: string, principal = 'arbiter@arbiter.invalid'): Promise<ScenarioSigningKey> {
  const privateKeyFile = join(dir, 'arbiter_ed25519');
  try {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'arbiter-scenarios', '-f', privateKeyFile]);
  } catch (err) {
    throw new InternalError(`cannot generate a signing key with ssh-keygen: ${(err as Error).message.split('\n')[0]}`, { hint: 'install openssh-client' });
  }
  const publicKey = (await readFile(`${privateKeyFile}.pub`, 'utf8')).trim();
  const allowedSignersFile = join(dir, 'allowed_signers');
  await writeFile(allowedSignersFile, `${principal} namespaces="git" ${publicKey}\n`);
  return { privateKeyFile, publicKey, allowedSignersFile };
}
