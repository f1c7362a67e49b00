// `arbiter eval`: the `opa eval` subset (DESIGN §8) — same loader, same output as `opa eval --format json|pretty`.
import { InputError } from '../../engine/errors.ts';
import { parseDocument } from '../../engine/ingest.ts';
import { evalOpa, formatOpaJson, formatOpaPretty, loadEvalPaths, parseExactJSON } from '../../engine/rego/opa-eval.ts';
import { readInputFile } from '../../app/context.ts';
import { parseCommandLine, UsageError } from './args.ts';

const USAGE = `usage: arbiter eval [-d PATH]... [-i FILE] [-f json|pretty] [--strict-builtin-errors] QUERY

  -d, --data PATH              a .rego module, a .json/.yaml data file, or a directory of them (repeatable)
  -i, --input FILE             the input document (JSON or YAML)
  -f, --format json|pretty     output format (default json, as \`opa eval\` prints it)
  --strict-builtin-errors      a builtin error fails the query instead of making it undefined (alias: --strict)

exit codes: 0 evaluated (defined or undefined), 1 evaluation error, 2 usage or compile error
`;

/** `-i FILE`: checked like every input document; JSON is then read again keeping number texts, as OPA does. */
function parseInputDocument(text: string, source: string): unknown {
  const value = parseDocument(text, source);
  const first = text.trimStart()[0];
  return first === '{' || first === '[' ? parseExactJSON(text) : value;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, USAGE, {
    data: { type: 'string', short: 'd', multiple: true, default: [] },
    input: { type: 'string', short: 'i' },
    format: { type: 'string', short: 'f', default: 'json' },
    strict: { type: 'boolean', default: false },
    'strict-builtin-errors': { type: 'boolean', default: false },
  }, true);
  if (!args) return 0;
  const { values, positionals } = args;
  if (positionals.length !== 1) throw new UsageError(`expected exactly one QUERY, got ${positionals.length}`);
  if (values.format !== 'json' && values.format !== 'pretty') throw new InputError('must be json or pretty', '--format');
  const loaded = loadEvalPaths(values.data);
  const input = values.input !== undefined ? parseInputDocument(readInputFile(values.input), values.input) : undefined;
  const output = evalOpa({
    modules: loaded.modules,
    data: loaded.data,
    ...(input !== undefined ? { input } : {}),
    query: positionals[0] as string,
    strict: values.strict || values['strict-builtin-errors'],
  });
  const text = values.format === 'json' ? formatOpaJson(output) : formatOpaPretty(output);
  if ('errors' in output) {
    // OPA prints errors on stdout for json (a document a tool parses) and on stderr for pretty
    (values.format === 'json' ? process.stdout : process.stderr).write(text);
    return output.stage === 'compile' ? 2 : 1;
  }
  process.stdout.write(text);
  return 0;
}
