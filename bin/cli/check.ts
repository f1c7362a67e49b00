// `arbiter check`: like `opa check` — loads Rego and CEL policies without deciding anything and reports every error at
// once, each at file:line:col; exit 1 when there is any, 0 when there is none (2: bad usage or a path that does not exist).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle, readBundleFiles, type BundleFile } from '../../engine/bundle.ts';
import { defaultCelEngine } from '../../engine/cel/index.ts';
import { checkPolicyFiles, renderFindings, type CheckFinding } from '../../engine/check.ts';
import { BundleError, InputError } from '../../engine/errors.ts';
import { parseCommandLine, UsageError } from './args.ts';
import { DEFAULT_BUNDLE } from '../../app/bundle.ts';

const USAGE = `usage: arbiter check [--strict] [--bundle DIR | PATH...]

  --bundle DIR   a policy bundle: its Rego and CEL policies, arbiter.yaml, data and manifest
                 (default, without PATHs: the shipped policies/remediation)
  PATH...        .rego and .cel.yaml files, or directories holding them
  --strict       also: unused imports, imports written twice, unused local variables (Rego, as opa check --strict);
                 variables no expression reads (CEL)

Prints "N errors occurred:" and one file:line:col line per error; exit 1 when there are errors.
`;

const isPolicyFile = (name: string): boolean => name.endsWith('.rego') || /\.cel\.ya?ml$/.test(name);

function filesBelow(path: string, out: BundleFile[]): void {
  if (!existsSync(path)) throw new InputError('no such file or directory', path);
  if (statSync(path).isFile()) {
    out.push({ file: path, source: readFileSync(path, 'utf8') });
    return;
  }
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = join(path, entry.name);
    if (entry.isDirectory()) filesBelow(full, out);
    else if (entry.isFile() && isPolicyFile(entry.name)) out.push({ file: full, source: readFileSync(full, 'utf8') });
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, USAGE, { bundle: { type: 'string' }, strict: { type: 'boolean', default: false } }, true);
  if (!args) return 0;
  const { values, positionals } = args;
  if (values.bundle !== undefined && positionals.length > 0) throw new UsageError(`give --bundle DIR or PATHs, not both`);
  const celEngine = defaultCelEngine();
  const options = { strict: values.strict, celEngine };
  let findings: CheckFinding[];
  if (positionals.length > 0) {
    const files: BundleFile[] = [];
    for (const p of positionals) filesBelow(p, files);
    findings = await checkPolicyFiles(files, options);
  } else {
    const dir = values.bundle ?? DEFAULT_BUNDLE;
    const files = [...readBundleFiles(dir)].map(([file, bytes]) => ({ file, source: bytes.toString('utf8') }));
    findings = await checkPolicyFiles(files, options);
    if (findings.length === 0) {
      // what only the whole bundle shows: arbiter.yaml, data, the cost model, names shared by a CEL and a Rego policy
      try {
        await loadBundle(dir, { celEngine });
      } catch (err) {
        if (!(err instanceof BundleError)) throw err;
        findings.push({ where: err.where ?? dir, message: err.where && err.message.startsWith(`${err.where}: `) ? err.message.slice(err.where.length + 2) : err.message });
      }
    }
  }
  if (findings.length === 0) return 0;
  process.stdout.write(renderFindings(findings));
  return 1;
}
