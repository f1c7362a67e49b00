// `arbiter` command dispatch. Each command lives in its own module exporting `run(argv): Promise<number>`.
import { exitCodeOf } from '../../engine/errors.ts';

type CommandModule = { run(argv: string[]): Promise<number> };

const COMMANDS: Record<string, { summary: string }> = {
  decide: { summary: 'evaluate a diagnosis against a bundle and print the decision' },
  act: { summary: 'decide and carry out the decision on a GitOps repository' },
  audit: { summary: 'reconstruct and verify the decision log of a repository' },
  test: { summary: 'run a bundle\'s Rego and CEL policy tests' },
  eval: { summary: 'evaluate a Rego query like `opa eval`' },
  scenarios: { summary: 'run incident scenarios end to end' },
  replay: { summary: 'replay past diagnoses in shadow mode against ground truth' },
  reconcile: { summary: 'perform due compensations (scheduled reverts)' },
  serve: { summary: 'HTTP intake for diagnoses, CloudEvents and Alertmanager' },
  verify: { summary: 'verify an actuated decision (reconciliation, metric) and revert it if it did not help' },
  build: { summary: 'compile the bundle\'s Rego to wasm with an opa binary on PATH' },
  schema: { summary: 'print the JSON Schema of a Diagnosis or a Context' },
  demo: { summary: 'run the whole loop on a temporary local repository' },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: arbiter <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`arbiter <command> --help\` for a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`arbiter: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = await (import(`./${name}.ts`) as Promise<CommandModule>).catch((err: unknown) => {
      if (err && typeof err === 'object' && 'code' in err && err.code === 'ERR_MODULE_NOT_FOUND') {
        throw Object.assign(new Error(`the "${name}" command is not built yet (see README: what is not built yet)`), { exitCode: 2 });
      }
      throw err;
    });
    return await mod.run(rest);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`arbiter ${name}: ${message}\n`);
    if (process.env.ARBITER_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return exitCodeOf(err);
  }
}
