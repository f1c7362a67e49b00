import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSshKey, parseAllowedSigners, parseOpenSshPrivateKey, publicKeyLine, signSshsig, verifySshsig } from '../../gitops/sign/sshsig.ts';
import { sshTestKey } from '../support/keys.ts';
import { tempDir } from '../support/git.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function sshKeygenVerify(allowed: string, signature: string, message: Buffer): number {
  const sigFile = join(tmp.path, `sig-${Math.random()}`);
  writeFileSync(sigFile, signature);
  const r = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'arbiter@arbiter.invalid', '-n', 'git', '-s', sigFile], { input: message });
  return r.status ?? -1;
}

describe('sshsig signatures', () => {
  const key = sshTestKey(tmp.path);

  it('reads the public key out of an ssh-keygen private key', () => {
    const parsed = parseOpenSshPrivateKey(key.privateKey);
    expect(publicKeyLine(parsed.publicKey)).toBe(key.publicKey.split(' ').slice(0, 2).join(' '));
  });

  it('produces signatures ssh-keygen -Y verify accepts, for any message', () => {
    const parsed = parseOpenSshPrivateKey(key.privateKey);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const message = Buffer.from(bytes);
        expect(sshKeygenVerify(key.allowedSignersFile, signSshsig(message, parsed), message)).toBe(0);
      }),
      { numRuns: 8 },
    );
  });

  it('verifies ssh-keygen -Y sign signatures in-process and rejects tampered messages', () => {
    const message = Buffer.from('tree 123\n\nhello\n');
    const file = join(tmp.path, 'payload');
    writeFileSync(file, message);
    execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-n', 'git', '-f', key.privateKeyFile, file]);
    const signature = execFileSync('cat', [`${file}.sig`], { encoding: 'utf8' });
    const ok = verifySshsig(signature, message);
    expect(ok.valid).toBe(true);
    expect(ok.publicKey).toBe(key.publicKey.split(' ').slice(0, 2).join(' '));
    expect(verifySshsig(signature, Buffer.from('tree 124\n\nhello\n')).valid).toBe(false);
    expect(verifySshsig(signature, message, 'file').valid).toBe(false);
  });

  it('generates OpenSSH keys that ssh-keygen reads', () => {
    const generated = generateSshKey('demo');
    const file = join(tmp.path, 'generated');
    writeFileSync(file, generated.privateKey, { mode: 0o600 });
    const pub = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
    expect(generated.publicKey.startsWith(pub)).toBe(true);
  });

  it('refuses passphrase-protected keys with a clear message', () => {
    const file = join(tmp.path, 'locked');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', file]);
    expect(() => parseOpenSshPrivateKey(execFileSync('cat', [file], { encoding: 'utf8' }))).toThrow(/passphrase-protected/);
  });

  it('parses allowed-signers lines with and without options', () => {
    const signers = parseAllowedSigners(`# comment\na@x,b@x ${key.publicKey}\nc@x namespaces="git" ${key.publicKey}\n`);
    expect(signers.map((s) => s.principals)).toEqual([['a@x', 'b@x'], ['c@x']]);
    expect(signers[1]!.namespaces).toEqual(['git']);
  });
});
