// Command-line parsing shared by every command: node's own `parseArgs`, strict, with `-h/--help` and usage errors as
// UsageError (exit 2): one line, then main.ts adds a one-line hint (`run 'arbiter help act'`), never the whole usage.
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { InputError } from '../../engine/errors.ts';

/** A wrong command line: the message is one line; bin/cli/main.ts prints the hint naming the command's help. */
export class UsageError extends InputError {
  constructor(message: string) {
    super(message.split('\n')[0]!);
  }
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

const HELP = { help: { type: 'boolean', short: 'h', default: false } } as const;

/**
 * Parses `argv` against `options` (plus `-h/--help`). Returns null after printing `usage` when help was asked for,
 * so a command does `const args = parseCommandLine(…); if (!args) return 0;`.
 */
export function parseCommandLine<const O extends OptionsConfig>(argv: string[], usage: string, options: O, allowPositionals = false) {
  let parsed;
  try {
    parsed = parseArgs<{ args: string[]; strict: true; allowPositionals: boolean; options: O & typeof HELP }>({
      args: argv,
      strict: true,
      allowPositionals,
      options: { ...options, ...HELP },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(usage);
    return null;
  }
  return parsed;
}
