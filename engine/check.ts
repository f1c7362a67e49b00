// `arbiter check` (like `opa check`): every problem of a set of Rego and CEL policy files at once, each at
// file:line:col, without deciding anything. `strict` adds OPA's strict-mode checks for Rego and unused CEL variables.
import { BundleError, InputError } from './errors.ts';
import type { CelEngine } from './cel/engine.ts';
import { checkCelPolicy } from './cel/policy.ts';
import type { BundleFile } from './bundle.ts';

export interface CheckFinding {
  /** `file:line:col` (or as much of it as is known). */
  where: string;
  message: string;
}

export interface CheckOptions {
  strict?: boolean;
  celEngine: CelEngine;
}

const isCelPolicy = (file: string): boolean => /\.cel\.ya?ml$/.test(file) && !/_test\.cel\.ya?ml$/.test(file);

function findingOf(err: unknown): CheckFinding {
  if (err instanceof BundleError || err instanceof InputError) {
    const where = err.where ?? '';
    const message = where && err.message.startsWith(`${where}: `) ? err.message.slice(where.length + 2) : err.message;
    return { where, message };
  }
  return { where: '', message: err instanceof Error ? err.message : String(err) };
}

interface RegoLike {
  code: string;
  detail: string;
  location?: { file: string; row: number; col: number };
  all: readonly RegoLike[];
}
const regoFinding = (e: RegoLike): CheckFinding => ({ where: e.location ? `${e.location.file}:${e.location.row}:${e.location.col}` : '', message: `${e.code}: ${e.detail}` });

/** Rego: parse errors of every file; then, if all parse, the compiler's errors (all of its failing stage), then strict. */
async function checkRego(modules: readonly BundleFile[], strict: boolean): Promise<CheckFinding[]> {
  if (modules.length === 0) return [];
  const { parseModule } = await import('./rego/parser.ts');
  const { RegoError, compileModules } = await import('./rego/index.ts');
  const { regoPolicies } = await import('./rego/backend.ts');
  const findings: CheckFinding[] = [];
  const parsed = [];
  for (const m of modules) {
    try {
      parsed.push(parseModule(m.file, m.source));
    } catch (err) {
      if (!(err instanceof RegoError)) throw err;
      findings.push(...err.all.map(regoFinding));
    }
  }
  if (findings.length > 0) return findings;
  try {
    regoPolicies(compileModules([...modules]));
  } catch (err) {
    if (err instanceof RegoError) findings.push(...err.all.map(regoFinding));
    else findings.push(findingOf(err));
  }
  if (strict) {
    const { strictErrors } = await import('./rego/strict.ts');
    findings.push(...strictErrors(parsed).map(regoFinding));
  }
  return findings;
}

/** Every finding for the given policy files (paths relative to where they were found), in file order. */
export async function checkPolicyFiles(files: readonly BundleFile[], options: CheckOptions): Promise<CheckFinding[]> {
  const findings: CheckFinding[] = [];
  const names = new Map<string, string>();
  for (const f of [...files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    if (!isCelPolicy(f.file)) continue;
    const r = checkCelPolicy(f.source, f.file, options.celEngine);
    findings.push(...r.errors.map(findingOf));
    if (options.strict) findings.push(...r.unused.map(findingOf));
    if (r.policy) {
      const earlier = names.get(r.policy.name);
      if (earlier) findings.push({ where: f.file, message: `policy name "${r.policy.name}" is also used by ${earlier}` });
      names.set(r.policy.name, f.file);
    }
  }
  findings.push(...(await checkRego(files.filter((f) => f.file.endsWith('.rego')), options.strict ?? false)));
  return findings;
}

/** `N errors occurred:` and one `file:line:col: message` line each, as `opa check` prints them. */
export function renderFindings(findings: readonly CheckFinding[]): string {
  const lines = findings.map((f) => (f.where ? `${f.where}: ${f.message}` : f.message));
  return `${findings.length} error${findings.length === 1 ? '' : 's'} occurred:\n${lines.join('\n')}\n`;
}
