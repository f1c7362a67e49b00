// The README's quick start in a fresh clone of this commit, on a PATH without Prometheus (an optional program):
// the demo works, the prerequisites step names what is missing and how to get it, and the tests needing it skip
// with that reason while the run still passes. node_modules is linked from this checkout (no network).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/git.ts';
import { missingLine, onPath } from './support/prereqs.ts';

const root = resolve(import.meta.dirname, '..');
const tmp = tempDir('arbiter-quickstart-');
afterAll(() => tmp.cleanup());

/** A directory of links to the programs a quick start needs, minus `without`: the scratch PATH. */
function scratchPath(without: string[]): string {
  const bin = join(tmp.path, 'bin');
  mkdirSync(bin);
  for (const name of ['node', 'npm', 'npx', 'git', 'ssh-keygen', 'gpg', 'kubectl', 'sh', 'env']) {
    const found = onPath(name);
    if (found && !without.includes(name)) symlinkSync(found, join(bin, name));
  }
  return bin;
}

describe('quick start on a fresh clone without prometheus', () => {
  const clone = join(tmp.path, 'arbiter');
  execFileSync('git', ['clone', '-q', '--no-hardlinks', root, clone]);
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
  const env = { ...process.env, PATH: scratchPath(['prometheus']), ARBITER_NO_INSTALL: '1', CI: '', VITEST: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined, NODE_OPTIONS: undefined };
  const run = (args: string[]) => spawnSync('npm', args, { cwd: clone, env, encoding: 'utf8', timeout: 240_000 });

  it('npm test runs the prerequisites step first (the same helper as .ci/run)', () => {
    const pkg = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.test).toMatch(/^npm run prereqs && /);
    expect(readFileSync(join(clone, '.ci/run'), 'utf8')).toMatch(/^npm run prereqs/m);
  });

  it('npm run demo works from the TypeScript sources before anything is built (tsx), saying so under ARBITER_DEBUG', () => {
    const r = spawnSync('npm', ['run', 'demo'], { cwd: clone, env: { ...env, ARBITER_DEBUG: '1' }, encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/audit passed/);
    expect(r.stderr).toContain('arbiter: running the TypeScript sources through tsx: dist/js is missing (run `npm run build`)');
  });

  it('npm run build (what npm ci runs as prepare) makes bin/arbiter run the compiled bundle with source-mapped stacks', () => {
    const pkg = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prepare).toBe(pkg.scripts.build);
    expect(run(['run', 'build']).status).toBe(0);
    const r = spawnSync('node', ['bin/arbiter', 'decide', '--diagnosis', 'no-such-file.yaml'], { cwd: clone, env: { ...env, ARBITER_DEBUG: '1' }, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).not.toContain('tsx');
    // the stack names the TypeScript source, not the bundle chunk
    expect(r.stderr).toMatch(/at readInputFile \([^)]*\.ts:\d+:\d+\)/);
    const demo = run(['run', 'demo']);
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/audit passed/);
  });

  it('an edited source after the build runs the sources, never the old bundle', () => {
    const file = join(clone, 'bin/cli/main.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace("usage: arbiter <command> [options]", "usage: arbiter <command> [options] (edited)"));
    const r = spawnSync('node', ['bin/arbiter', '--help'], { cwd: clone, env: { ...env, ARBITER_DEBUG: '1' }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: arbiter <command> [options] (edited)');
    expect(r.stderr).toContain('arbiter: running the TypeScript sources through tsx: bin/cli/main.ts changed since the build');
  });

  it('the prerequisites step says prometheus is missing and how to get it, and passes', () => {
    const r = run(['run', 'prereqs']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`prereqs: optional: ${missingLine('prometheus')}; without it the verification tests skip`);
    expect(r.stdout).not.toMatch(/installing/);
  });

  it('the tests needing prometheus skip with that reason in the summary; the run passes', () => {
    const r = run(['exec', '--', 'vitest', 'run', 'test/verify/verify.test.ts']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^skipped [1-9]\\d* tests in test/verify/verify\\.test\\.ts: ${missingLine('prometheus').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    expect(r.stdout).toMatch(/^tests: 0 passed, 0 failed, [1-9]\d* skipped$/m);
  });
});
