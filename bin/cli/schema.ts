// `arbiter schema diagnosis|context`: the JSON Schema of an input document, generated from the zod schemas.
import { DOCUMENT_SCHEMAS, jsonSchemaOf, type SchemaName } from '../../engine/schemas.ts';
import { parseCommandLine, UsageError } from './args.ts';

const USAGE = `usage: arbiter schema diagnosis|context

Prints the JSON Schema (draft 2020-12) of a Diagnosis or a Context, generated from arbiter's own types.
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, USAGE, {}, true);
  if (!args) return 0;
  const [name, ...extra] = args.positionals;
  if (!name || extra.length > 0 || !(name in DOCUMENT_SCHEMAS)) {
    throw new UsageError(`expected one of ${Object.keys(DOCUMENT_SCHEMAS).join(', ')}`);
  }
  process.stdout.write(`${JSON.stringify(jsonSchemaOf(name as SchemaName), null, 2)}\n`);
  return 0;
}
