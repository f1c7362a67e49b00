// Signing keys for tests: an SSH key from stock ssh-keygen with an allowed-signers file, and git config that makes
// `git verify-commit` trust it.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SshTestKey {
  privateKeyFile: string;
  privateKey: string;
  publicKey: string;
  allowedSignersFile: string;
  /** `-c` flags for `git` so `git verify-commit` / `git log --show-signature` trust this key. */
  gitConfig: string[];
}

export function sshTestKey(dir: string, name = 'arbiter'): SshTestKey {
  const privateKeyFile = join(dir, `${name}_ed25519`);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', privateKeyFile]);
  const publicKey = readFileSync(`${privateKeyFile}.pub`, 'utf8').trim();
  const allowedSignersFile = join(dir, `${name}.allowed_signers`);
  writeFileSync(allowedSignersFile, `${name}@arbiter.invalid ${publicKey}\n`);
  return {
    privateKeyFile,
    privateKey: readFileSync(privateKeyFile, 'utf8'),
    publicKey,
    allowedSignersFile,
    gitConfig: ['-c', 'gpg.format=ssh', '-c', `gpg.ssh.allowedSignersFile=${allowedSignersFile}`],
  };
}
