// `arbiter schema [NAME]`: the file formats arbiter reads, and the JSON Schema of one, generated from the zod schemas
// that validate it (bin/cli/formats.ts). `--write DIR` writes every schema as DIR/NAME.json (the committed schemas/).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandLine, UsageError } from './args.ts';
import { FILE_FORMATS, fileFormatSchemaText } from './formats.ts';

const USAGE = `usage: arbiter schema [NAME]
       arbiter schema --write DIR

Without NAME, lists the file formats arbiter reads. With NAME, prints its JSON Schema (draft 2020-12), generated from
arbiter's own validation. --write DIR writes every schema as DIR/NAME.json (the repository keeps them in schemas/).
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, USAGE, { write: { type: 'string' } }, true);
  if (!args) return 0;
  const [name, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`expected at most one NAME, got ${args.positionals.length}`);
  if (args.values.write !== undefined) {
    mkdirSync(args.values.write, { recursive: true });
    for (const n of Object.keys(FILE_FORMATS)) writeFileSync(join(args.values.write, `${n}.json`), fileFormatSchemaText(n));
    return 0;
  }
  if (!name) {
    const width = Math.max(...Object.keys(FILE_FORMATS).map((n) => n.length));
    process.stdout.write(Object.entries(FILE_FORMATS).map(([n, f]) => `${n.padEnd(width)}  ${f.files}`).join('\n') + '\n');
    return 0;
  }
  if (!(name in FILE_FORMATS)) throw new UsageError(`unknown schema "${name}"; expected one of ${Object.keys(FILE_FORMATS).join(', ')}`);
  process.stdout.write(fileFormatSchemaText(name));
  return 0;
}
