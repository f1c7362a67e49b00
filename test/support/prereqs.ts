// The external programs arbiter's commands and tests run, in one table shared by `npm test` and `.ci/run`:
// `node --import tsx test/support/prereqs.ts` checks each, installs missing Debian packages when it can (root with
// apt-get), otherwise prints what is missing and how to get it. Test files ask `missingTool(...)` and skip with that
// reason (`describeNeeding` in needs.ts); test/summary-reporter.ts prints the reason under the summary.
// To add a program (say nats-server for a bus test): one entry in TOOLS, then `describeNeeding(['nats-server'], …)`.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Tool {
  /** What it is for, in the README table's words. */
  why: string;
  /** What happens without it. */
  without: string;
  /** Required tools make `npm test` fail when missing (arbiter itself cannot work); optional ones skip tests. */
  required: boolean;
  /** Debian package providing it, when there is one. */
  debian?: string;
  /** Where to get it when Debian has no package. */
  elsewhere?: string;
  /** Installing the package must not start its service (the tests start their own on 127.0.0.1). */
  noService?: boolean;
  /** The program's path, or undefined when it is not there. */
  locate(): string | undefined;
}

/** The first executable `name` on PATH (what a test's child process would run). */
export function onPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function gitHttpBackend(): string | undefined {
  if (!onPath('git')) return undefined;
  const r = spawnSync('git', ['--exec-path'], { encoding: 'utf8' });
  const file = join(r.stdout?.trim() ?? '', 'git-http-backend');
  return r.status === 0 && existsSync(file) ? file : undefined;
}

/** kubectl as the render check finds it (actions/render.ts `findKubectl`): PATH, then /usr/bin/kubectl. */
function kubectl(): string | undefined {
  return onPath('kubectl') ?? onPath('kubectl', '/usr/bin');
}

export const TOOLS = {
  git: {
    why: 'repositories in the demo, scenarios and tests; `git verify-commit` checks signatures',
    without: 'nothing works: npm test stops before running tests',
    required: true,
    debian: 'git',
    locate: () => onPath('git'),
  },
  'git-http-backend': {
    why: 'the loopback smart-HTTP remote of the Git, scenario and serve tests',
    without: 'npm test stops before running tests',
    required: true,
    debian: 'git',
    locate: gitHttpBackend,
  },
  'ssh-keygen': {
    why: 'the demo and the tests generate Ed25519 signing keys; `ssh-keygen -Y verify` checks sshsig output',
    without: 'npm test stops before running tests',
    required: true,
    debian: 'openssh-client',
    locate: () => onPath('ssh-keygen'),
  },
  gpg: {
    why: '`git verify-commit` of OpenPGP-signed commits (test/gitops/audit.test.ts)',
    without: 'the OpenPGP verification tests skip with this reason',
    required: false,
    debian: 'gnupg',
    locate: () => onPath('gpg'),
  },
  kubectl: {
    why: '`kubectl kustomize` renders edited Kustomize trees (act\'s render check, golden tests, scenarios)',
    without: 'act commits without the render check and says so in a note; the render tests skip with this reason',
    required: false,
    elsewhere: 'Debian has no package: install kubectl from the Kubernetes project\'s apt repository or release binaries ("Install kubectl on Linux" in the Kubernetes documentation)',
    locate: kubectl,
  },
  prometheus: {
    why: 'the verification tests query a real Prometheus on 127.0.0.1 (test/verify/verify.test.ts)',
    without: 'the verification tests skip with this reason',
    required: false,
    debian: 'prometheus',
    noService: true,
    locate: () => onPath('prometheus'),
  },
  'nats-server': {
    why: 'the work-bus tests and the scale bench start a real NATS server with JetStream on 127.0.0.1 (test/serve/bus.test.ts)',
    without: 'the bus tests skip with this reason; the bench reports scale.skipped',
    required: false,
    debian: 'nats-server',
    noService: true,
    locate: () => onPath('nats-server'),
  },
} satisfies Record<string, Tool>;

export type ToolId = keyof typeof TOOLS;
const TOOL_IDS = Object.keys(TOOLS) as ToolId[];
const tool = (id: ToolId): Tool => TOOLS[id];

/** How to get a missing tool, in one phrase. */
export function howToGet(id: ToolId): string {
  const t = tool(id);
  return t.debian ? `run \`apt-get install -y ${t.debian}\` as root (Debian package ${t.debian})` : (t.elsewhere ?? 'install it');
}

/** The one line printed for a missing tool, and the skip reason of the tests that need it. */
export function missingLine(id: ToolId): string {
  return `${id} not found on PATH: ${howToGet(id)}`;
}

/** The skip reason for tests needing `ids`, or undefined when all are there. */
export function missingTool(...ids: ToolId[]): string | undefined {
  const missing = ids.filter((id) => !TOOLS[id].locate());
  return missing.length === 0 ? undefined : missing.map(missingLine).join('; ');
}

function canInstall(): boolean {
  return process.getuid?.() === 0 && onPath('apt-get') !== undefined && process.env.ARBITER_NO_INSTALL !== '1';
}

/** Installs Debian packages quietly; apt's output is shown only when it fails. */
function aptInstall(packages: string[], noService: boolean): boolean {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]): boolean => {
    const r = spawnSync('apt-get', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) process.stderr.write(`apt-get ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
    return r.status === 0;
  };
  // the package's service would start a second copy on a fixed port; policy-rc.d answering 101 forbids that
  const policy = '/usr/sbin/policy-rc.d';
  const addPolicy = noService && !existsSync(policy);
  if (addPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    return run(['install', '-y', '-qq', '--no-install-recommends', ...packages]) || (run(['update', '-qq']) && run(['install', '-y', '-qq', '--no-install-recommends', ...packages]));
  } finally {
    if (addPolicy) rmSync(policy, { force: true });
  }
}

/** Checks every tool, installs what it can, prints what is still missing; returns the exit code (1: required missing). */
export function provide(options: { install: boolean; log?: (line: string) => void } = { install: true }): number {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  let missing = TOOL_IDS.filter((id) => !TOOLS[id].locate());
  const installable = missing.filter((id) => tool(id).debian);
  if (installable.length > 0 && options.install && canInstall()) {
    const plain = [...new Set(installable.filter((id) => !tool(id).noService).map((id) => tool(id).debian!))];
    const quiet = [...new Set(installable.filter((id) => tool(id).noService).map((id) => tool(id).debian!))];
    log(`prereqs: installing ${[...plain, ...quiet].join(', ')} with apt-get (missing: ${installable.join(', ')})`);
    if (plain.length > 0) aptInstall(plain, false);
    if (quiet.length > 0) aptInstall(quiet, true);
    missing = TOOL_IDS.filter((id) => !TOOLS[id].locate());
  }
  for (const id of missing) log(`prereqs: ${tool(id).required ? 'required' : 'optional'}: ${missingLine(id)}; without it ${tool(id).without}`);
  return missing.some((id) => tool(id).required) ? 1 : 0;
}

/** git commits made by tests and the demo need an identity even on a bare machine. */
function ensureGitIdentity(log: (line: string) => void): void {
  if (!onPath('git')) return;
  for (const [key, value] of [['user.name', 'arbiter tests'], ['user.email', 'tests@arbiter.invalid']] as const) {
    if (spawnSync('git', ['config', '--global', key]).status !== 0) {
      execFileSync('git', ['config', '--global', key, value]);
      log(`prereqs: git ${key} was not set; set it globally to "${value}"`);
    }
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const install = !process.argv.includes('--no-install');
  const code = provide({ install });
  if (code === 0 && process.argv.includes('--git-identity')) ensureGitIdentity((line) => process.stdout.write(`${line}\n`));
  process.exitCode = code;
}
