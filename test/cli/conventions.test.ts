// Command-line conventions (issue 15 item 2): --version, `-` for standard input, one-line usage errors with a hint,
// colour only on a terminal, and `test --run` that matches nothing failing as `opa test --fail-on-empty` does.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { colourEnabled, painter } from '../../bin/cli/colour.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const EXAMPLE = join(ROOT, 'policies/remediation/examples/bad-deployment.yaml');

function arbiter(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/arbiter'), ...args], {
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
    env: { ...process.env, ARBITER_DEBUG: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('arbiter --version', () => {
  it('prints the package.json version, as -V too', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = arbiter([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`arbiter ${version}\n`);
    }
  });
});

describe('- reads standard input', () => {
  it('decide --diagnosis - gives the same decision as the file', () => {
    const fromFile = arbiter(['decide', '--diagnosis', EXAMPLE, '--json']);
    const fromStdin = arbiter(['decide', '--diagnosis', '-', '--json'], readFileSync(EXAMPLE, 'utf8'));
    expect(fromStdin.stderr).toBe('');
    expect(fromStdin.code).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toEqual(JSON.parse(fromFile.stdout));
  });
  it('two options reading standard input are refused, not read empty', () => {
    const r = arbiter(['decide', '--diagnosis', '-', '--context', '-'], readFileSync(EXAMPLE, 'utf8'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/standard input was already read/);
  });
});

describe('usage errors', () => {
  it('are one line plus a hint, never the whole usage', () => {
    for (const argv of [['act', '--bogus'], ['act'], ['decide', '--diagnosis']]) {
      const r = arbiter(argv);
      expect(r.code).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(new RegExp(`^arbiter ${argv[0]}: `));
      expect(lines[1]).toBe(`run 'arbiter help ${argv[0]}' for usage`);
      expect(r.stderr).not.toContain('usage:');
    }
  });
  it('arbiter help NAME prints the command usage', () => {
    const r = arbiter(['help', 'act']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: arbiter act /);
  });
  it('no colour when stderr is not a terminal', () => {
    const r = arbiter(['act']);
    expect(r.stderr).not.toContain('\u001b[');
  });
});

describe('colour', () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;
  it('only on a terminal, and NO_COLOR or TERM=dumb turn it off', () => {
    expect(colourEnabled(tty, {})).toBe(true);
    expect(colourEnabled(pipe, {})).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: '' })).toBe(true);
    expect(colourEnabled(tty, { TERM: 'dumb' })).toBe(false);
    expect(painter(tty, {})('red', 'x')).toBe('\u001b[31mx\u001b[0m');
    expect(painter(tty, { NO_COLOR: 'yes' })('red', 'x')).toBe('x');
  });
});

describe('arbiter test --run', () => {
  it('a filter that matches nothing exits 1 and says so', () => {
    const r = arbiter(['test', '--run', 'zzz-no-such-test']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no tests were run/);
  });
  it('a filter that matches exits 0', () => {
    const r = arbiter(['test', '--run', 'restart']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS /m);
  });
});
