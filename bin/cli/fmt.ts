// `arbiter fmt`: Rego in OPA's canonical layout (`opa fmt`): print, list (-l), write in place (-w) or diff (-d).
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../engine/errors.ts';
import { RegoError, formatModule } from '../../engine/rego/index.ts';
import { parseCommandLine, UsageError } from './args.ts';

const USAGE = `usage: arbiter fmt [-l] [-w] [-d] [--fail] PATH...

  PATH      a .rego file or a directory (searched recursively for .rego files)
  -l        list the files whose formatting differs from arbiter's (OPA's) canonical layout
  -w        write the formatted text back to each file that differs
  -d        print a unified diff of the changes instead of the formatted text
  --fail    exit 1 when any file differs (with -l or -d: a CI check)

With none of -l, -w, -d the formatted text of every file is printed.
exit codes: 0 done, 1 --fail and a file differs, 2 a file does not parse or cannot be formatted
`;

function regoFiles(path: string): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new InputError('no such file or directory', path);
  }
  if (!stat.isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) out.push(...regoFiles(full));
    else if (entry.name.endsWith('.rego')) out.push(full);
  }
  return out;
}

/** A unified diff of two texts by lines (longest common subsequence; files are small). */
export function unifiedDiff(file: string, a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Array<{ op: ' ' | '-' | '+'; line: string; ai: number; bi: number }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) ops.push({ op: ' ', line: x[i++] as string, ai: i, bi: ++j });
    else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) ops.push({ op: '+', line: y[j++] as string, ai: i, bi: j });
    else ops.push({ op: '-', line: x[i++] as string, ai: i, bi: j });
  }
  const out = [`--- ${file}`, `+++ ${file} (formatted)`];
  const CONTEXT = 3;
  for (let k = 0; k < ops.length; ) {
    if (ops[k]!.op === ' ') {
      k++;
      continue;
    }
    const start = Math.max(0, k - CONTEXT);
    let end = k;
    while (end < ops.length) {
      let next = end;
      while (next < ops.length && ops[next]!.op === ' ') next++;
      if (next >= ops.length || next - end > 2 * CONTEXT) break;
      end = next + 1;
    }
    end = Math.min(ops.length, end + CONTEXT);
    const hunk = ops.slice(start, end);
    const aStart = hunk.find((o) => o.op !== '+')?.ai ?? 0;
    const bStart = hunk.find((o) => o.op !== '-')?.bi ?? 0;
    out.push(`@@ -${aStart},${hunk.filter((o) => o.op !== '+').length} +${bStart},${hunk.filter((o) => o.op !== '-').length} @@`);
    for (const o of hunk) out.push(`${o.op}${o.line}`);
    k = end;
  }
  return `${out.join('\n')}\n`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandLine(
    argv,
    USAGE,
    {
      list: { type: 'boolean', short: 'l', default: false },
      write: { type: 'boolean', short: 'w', default: false },
      diff: { type: 'boolean', short: 'd', default: false },
      fail: { type: 'boolean', default: false },
    },
    true,
  );
  if (!args) return 0;
  const { values, positionals } = args;
  if (positionals.length === 0) throw new UsageError(`expected at least one PATH`);
  const files = positionals.flatMap(regoFiles);
  let differs = false;
  let broken = false;
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    let formatted: string;
    try {
      formatted = formatModule(file, source);
    } catch (err) {
      if (!(err instanceof RegoError)) throw err;
      // one line per file, and the other files are still formatted
      process.stderr.write(`${err.location ? `${err.location.file}:${err.location.row}: ` : `${file}: `}${err.code}: ${err.detail}\n`);
      broken = true;
      continue;
    }
    const changed = formatted !== source;
    differs ||= changed;
    if (values.list && changed) process.stdout.write(`${file}\n`);
    if (values.diff && changed) process.stdout.write(unifiedDiff(file, source, formatted));
    if (values.write && changed) {
      // never a half-written policy: write a sibling and rename it over the file
      const tmp = `${file}.arbiter-fmt.tmp`;
      writeFileSync(tmp, formatted);
      renameSync(tmp, file);
    }
    if (!values.list && !values.diff && !values.write) process.stdout.write(formatted);
  }
  if (broken) return 2;
  return values.fail && differs ? 1 : 0;
}
