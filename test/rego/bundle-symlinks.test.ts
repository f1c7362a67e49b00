// Symlinks in a bundle directory (engine/bundle.ts readDirectory): followed while the target stays inside the bundle
// root, refused with a BundleError naming the link when a file that would be read points outside it.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../engine/bundle.ts';
import { BundleError } from '../../engine/errors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'arbiter-bundle-links-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const POLICY = 'package arbiter.policies.linked\nverdicts contains {"effect": "allow", "reason": "linked"} if true\n';

/** A fresh bundle directory holding `shared/linked.rego` (the link target) and whatever `arrange` adds. */
function bundleDir(name: string, arrange: (dir: string) => void): string {
  const dir = join(tmp, name, 'bundle');
  mkdirSync(join(dir, 'shared'), { recursive: true });
  writeFileSync(join(dir, 'shared', 'linked.rego'), POLICY);
  arrange(dir);
  return dir;
}

describe('symlinks in a bundle directory', () => {
  it('a link to a file inside the bundle is followed and read under the link name', async () => {
    const dir = bundleDir('inside', (d) => {
      mkdirSync(join(d, 'policies'));
      symlinkSync('../shared/linked.rego', join(d, 'policies', 'alias.rego'));
    });
    const bundle = await loadBundle(dir);
    expect(bundle.regoModules.map((m) => m.file).sort()).toEqual(['policies/alias.rego', 'shared/linked.rego']);
    expect(bundle.regoModules.find((m) => m.file === 'policies/alias.rego')?.source).toBe(POLICY);
  });

  it('a link to a directory inside the bundle is walked; a link back up the tree does not loop', async () => {
    const dir = bundleDir('dir-inside', (d) => {
      symlinkSync('shared', join(d, 'also'));
      symlinkSync('..', join(d, 'shared', 'up'));
    });
    const bundle = await loadBundle(dir);
    expect(bundle.regoModules.map((m) => m.file).sort()).toEqual(['also/linked.rego', 'shared/linked.rego']);
  });

  it('a policy file linked from outside the bundle root is refused, naming the link', async () => {
    const outside = join(tmp, 'outside.rego');
    writeFileSync(outside, POLICY);
    const dir = bundleDir('outside', (d) => symlinkSync(outside, join(d, 'escape.rego')));
    const err = await loadBundle(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as Error).message).toMatch(/escape\.rego.*symlink leaves the bundle root|symlink leaves the bundle root.*escape\.rego/);
  });

  it('a relative link climbing out of the root is refused too; a linked directory outside it is not read', async () => {
    mkdirSync(join(tmp, 'climb', 'remediation'), { recursive: true });
    writeFileSync(join(tmp, 'climb', 'remediation', 'other.rego'), POLICY.replace('linked', 'other'));
    const dir = bundleDir('climb', (d) => symlinkSync('../remediation/other.rego', join(d, 'other.rego')));
    await expect(loadBundle(dir)).rejects.toThrow(/other\.rego: symlink leaves the bundle root/);
    rmSync(join(dir, 'other.rego'));
    // as the Rego edition links the CEL edition's examples/: skipped, its policies stay outside the bundle
    symlinkSync('../remediation', join(dir, 'examples'));
    const bundle = await loadBundle(dir);
    expect(bundle.regoModules.map((m) => m.file)).toEqual(['shared/linked.rego']);
  });

  it('a dangling link to a policy file is an error; links that are not bundle files are skipped', async () => {
    const dangling = bundleDir('dangling', (d) => symlinkSync('missing.rego', join(d, 'gone.rego')));
    await expect(loadBundle(dangling)).rejects.toThrow(/gone\.rego.*symlink target does not exist|symlink target does not exist.*gone\.rego/);
    writeFileSync(join(tmp, 'README.md'), 'notes');
    const skipped = bundleDir('skipped', (d) => symlinkSync(join(tmp, 'README.md'), join(d, 'README.md')));
    const bundle = await loadBundle(skipped);
    expect(bundle.regoModules.map((m) => m.file)).toEqual(['shared/linked.rego']);
  });
});
