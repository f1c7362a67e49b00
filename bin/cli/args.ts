// Command-line parsing shared by every command: node's own `parseArgs`, strict, with `-h/--help` and usage errors as
// InputError (exit 2) that repeat the usage text.
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { InputError } from '../../engine/errors.ts';

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
    throw new InputError(`${(err as Error).message}\n${usage}`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(usage);
    return null;
  }
  return parsed;
}
