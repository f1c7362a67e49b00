// `npm run bench` prints a readable table; `npm run --silent bench -- --json` prints one JSON document (without
// `--silent` npm prints its `> script` banner on stdout first).
// Each section lives in its own module exporting `bench(): Promise<Record<string, unknown>>` under a top-level key.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SECTIONS: Array<{ key: string; file: string }> = [
  { key: 'cli', file: './cli.ts' },
  { key: 'decide', file: './decide.ts' },
  { key: 'decide', file: './decide-rego.ts' },
  { key: 'actuate', file: './actuate.ts' },
  { key: 'audit', file: './audit.ts' },
  { key: 'e2e', file: './e2e.ts' },
  { key: 'scale', file: './scale.ts' },
];

function flatten(prefix: string, value: unknown, out: Array<[string, string]>): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix}.${k}` : k, v, out);
  } else {
    out.push([prefix, typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(3) : String(value)]);
  }
}

async function runBench(): Promise<void> {
  const json = process.argv.includes('--json');
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const result: Record<string, unknown> = { machine: { cpus: (await import('node:os')).cpus().length, node: process.version } };
  for (const section of SECTIONS) {
    if (only && !only.split(',').includes(section.key)) continue;
    const path = fileURLToPath(new URL(section.file, import.meta.url));
    if (!existsSync(path)) continue;
    const mod = (await import(section.file)) as { bench(): Promise<Record<string, unknown>> };
    if (!json) process.stderr.write(`bench: ${section.key} …\n`);
    // two-level merge: several sections may fill one key (decide.cel, decide.rego, decide.wasm)
    for (const [k, v] of Object.entries(await mod.bench())) {
      const prev = result[k];
      result[k] = prev && typeof prev === 'object' && v && typeof v === 'object' ? { ...prev, ...v } : v;
    }
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const rows: Array<[string, string]> = [];
  flatten('', result, rows);
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`${'metric'.padEnd(width)}  value\n${'-'.repeat(width)}  -----\n`);
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

try {
  await runBench();
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
