// `arbiter build`: compiles a bundle's Rego policies to `policy.wasm` with the `opa` binary
// (`opa build -t wasm -e arbiter/policies`), so `createRegoBackend` evaluates them through opa-wasm.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadBundle } from '../../engine/bundle.ts';
import { BundleError, InputError } from '../../engine/errors.ts';
import { WASM_ENTRYPOINT, loadBundleWasm } from '../../engine/rego/wasm.ts';
import { DEFAULT_BUNDLE } from '../../app/bundle.ts';
import { parseCommandLine } from './args.ts';

const USAGE = `usage: arbiter build [--bundle DIR] [--opa PATH]

  --bundle DIR   policy bundle directory (default: the shipped policies/remediation)
  --opa PATH     the opa binary (default: opa on PATH)

Writes DIR/policy.wasm (entrypoint ${WASM_ENTRYPOINT}) from the bundle's non-test .rego files. Needs OPA's CLI;
without it, arbiter evaluates the Rego policies with its built-in interpreter and no build is needed.
`;

/** True when an `opa` binary answers `opa version`. */
export function hasOpa(opa = 'opa'): boolean {
  const r = spawnSync(opa, ['version'], { encoding: 'utf8', timeout: 10_000 });
  return !r.error && r.status === 0;
}

/** The bytes of one regular file in a .tar.gz (ustar), or undefined. */
export function fileFromTarball(tgz: Buffer, wanted: string): Buffer | undefined {
  const tar = gunzipSync(tgz);
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) return undefined;
    const field = (from: number, len: number): string => header.subarray(from, from + len).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const prefix = field(345, 155);
    const name = (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100)).replace(/^\.?\//, '');
    if (name === wanted) return Buffer.from(tar.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, USAGE, { bundle: { type: 'string' }, opa: { type: 'string', default: 'opa' } });
  if (!args) return 0;
  const { values } = args;
  const dir = resolve(values.bundle ?? DEFAULT_BUNDLE);
  const bundle = await loadBundle(dir);
  const modules = bundle.regoModules.filter((m) => !m.file.endsWith('_test.rego'));
  if (modules.length === 0) throw new InputError('the bundle has no Rego policies to compile', dir);
  if (!hasOpa(values.opa)) {
    throw new InputError(`no usable opa binary (${values.opa}): arbiter build needs OPA's CLI to compile Rego to wasm; without policy.wasm the built-in interpreter evaluates the bundle`);
  }
  const work = mkdtempSync(join(tmpdir(), 'arbiter-build-'));
  try {
    const out = join(work, 'bundle.tar.gz');
    const r = spawnSync(values.opa, ['build', '-t', 'wasm', '-e', WASM_ENTRYPOINT, '-o', out, ...modules.map((m) => join(dir, m.file))], { encoding: 'utf8', timeout: 300_000 });
    if (r.error || r.status !== 0) throw new BundleError(`opa build failed:\n${(r.stderr || r.stdout || String(r.error)).trim()}`, dir);
    const wasm = fileFromTarball(readFileSync(out), 'policy.wasm');
    if (!wasm) throw new BundleError('opa build wrote no policy.wasm', dir);
    await loadBundleWasm(new Uint8Array(wasm), 'policy.wasm'); // refuse to install a module we cannot load
    // write next to the bundle, then rename: never a half-written policy.wasm
    const tmp = join(dir, `.policy.wasm.${process.pid}.tmp`);
    writeFileSync(tmp, wasm);
    renameSync(tmp, join(dir, 'policy.wasm'));
    process.stdout.write(`wrote ${join(dir, 'policy.wasm')} (${wasm.length} bytes, entrypoint ${WASM_ENTRYPOINT}, ${modules.length} modules)\n`);
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
