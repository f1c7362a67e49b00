// `arbiter` command dispatch. Each command lives in its own module exporting `run(argv): Promise<number>`, loaded
// only when it runs so `arbiter decide` does not pay for the Git or server code.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './args.ts';
import { painter } from './colour.ts';
import { describeError, exitCodeOf } from './exit.ts';

type CommandModule = { run(argv: string[]): Promise<number> };

const COMMANDS: Record<string, { summary: string; load(): Promise<CommandModule> }> = {
  diagnose: { summary: 'investigate an alert with the LLM diagnosis tier and print a Diagnosis', load: () => import('./diagnose.ts') },
  decide: { summary: 'evaluate a diagnosis against a bundle and print the decision', load: () => import('./decide.ts') },
  act: { summary: 'decide and carry out the decision on a GitOps repository', load: () => import('./act.ts') },
  audit: { summary: 'reconstruct and verify the decision log of a repository', load: () => import('./audit.ts') },
  test: { summary: 'run a bundle\'s Rego and CEL policy tests', load: () => import('./test.ts') },
  check: { summary: 'check Rego and CEL policies for errors, all at once, like `opa check`', load: () => import('./check.ts') },
  eval: { summary: 'evaluate a Rego query like `opa eval`', load: () => import('./eval.ts') },
  fmt: { summary: 'format Rego files in OPA\'s canonical layout like `opa fmt`', load: () => import('./fmt.ts') },
  scenarios: { summary: 'run incident scenarios end to end', load: () => import('./scenarios.ts') },
  replay: { summary: 'replay past diagnoses in shadow mode against ground truth', load: () => import('./replay.ts') },
  reconcile: { summary: 'carry out due follow-ups: scheduled reverts and staged promotions', load: () => import('./reconcile.ts') },
  serve: { summary: 'HTTP intake for diagnoses, CloudEvents and Alertmanager', load: () => import('./serve.ts') },
  worker: { summary: 'carry out diagnoses queued on the work bus (serve.yaml queue: nats)', load: () => import('./worker.ts') },
  verify: { summary: 'verify an actuated decision (reconciliation, metric) and revert it if it did not help', load: () => import('./verify.ts') },
  build: { summary: 'compile the bundle\'s Rego to wasm with an opa binary on PATH', load: () => import('./build.ts') },
  schema: { summary: 'list the file formats arbiter reads, or print the JSON Schema of one', load: () => import('./schema.ts') },
  demo: { summary: 'run the whole loop on a temporary local repository', load: () => import('./demo.ts') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: arbiter <command> [options]\n       arbiter --version\n\ncommands:\n${lines.join('\n')}\n\nRun \`arbiter help <command>\` for a command's options.\n`;
}

/**
 * `arbiter 0.1.0`: the version in arbiter's package.json, found by walking up from this module (so the sources and a
 * compiled bundle in another directory report the same).
 */
export function versionLine(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'arbiter' && pkg.version) return `arbiter ${pkg.version}\n`;
    }
    const up = dirname(dir);
    if (up === dir) return 'arbiter (unknown version)\n';
    dir = up;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...others] = argv;
  if (first === '--version' || first === '-V') {
    process.stdout.write(versionLine());
    return 0;
  }
  // `arbiter help act` is `arbiter act --help`.
  const [name, ...rest] = first === 'help' && others.length > 0 ? [others[0]!, '--help'] : [first, ...others];
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const paint = painter(process.stderr);
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`${paint('red', 'arbiter:')} unknown command "${name}"\nrun 'arbiter help' for the list of commands\n`);
    return 2;
  }
  try {
    const mod = await command.load();
    return await mod.run(rest);
  } catch (err) {
    const message = describeError(err);
    process.stderr.write(`${paint('red', `arbiter ${name}:`)} ${message}\n`);
    // A usage error is one line plus a hint, never the whole usage text (as git, kubectl and opa do).
    if (err instanceof UsageError) process.stderr.write(`run 'arbiter help ${name}' for usage\n`);
    if (process.env.ARBITER_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return exitCodeOf(err);
  }
}
