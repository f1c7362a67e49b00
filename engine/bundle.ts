// Bundle loading (DESIGN §4): a directory or an OPA `.tar.gz` bundle → settings, data, compiled policies, a digest.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import YAML from 'yaml';
import { z } from 'zod';
import { BundleError } from './errors.ts';
import { defaultCelEngine, type CelEngine } from './cel/index.ts';
import { compileCelPolicy, createCelBackend, type CompiledCelPolicy } from './cel/policy.ts';
import { sha256Hex } from './canonical.ts';
import { fieldPath } from './ingest.ts';
import { BundleSettings, CostModel } from './settings.ts';
import type { PolicyBackend } from './types.ts';

export interface BundleFile {
  file: string;
  source: string;
}

export interface Bundle {
  /** The directory or tarball the bundle was loaded from. */
  dir: string;
  /** `.manifest` revision; when absent, `sha256:` + the first 12 hex of the digest. */
  revision: string;
  roots: string[];
  /** sha256 over the sorted names and contents of the files that affect decisions (not tests, not examples). */
  digest: string;
  settings: BundleSettings;
  /** Merged `data.json` / `data.yaml` documents (nested ones at their directory's path), as `data.*`. */
  data: Record<string, unknown>;
  /** `data.arbiter.cost`, validated. */
  cost: CostModel;
  backends: PolicyBackend[];
  /** Every `.rego` file, tests included (`*_test.rego`), for the Rego backend and tester. */
  regoModules: BundleFile[];
  /** A compiled `policy.wasm`, if the bundle ships one. */
  wasm?: { file: string; bytes: Uint8Array };
  celPolicies: CompiledCelPolicy[];
  /** CEL policy tests (`*_test.cel.yaml`), unparsed; `engine/policytest.ts` runs them. */
  tests: BundleFile[];
  celEngine: CelEngine;
}

export interface LoadBundleOptions {
  celEngine?: CelEngine;
}

/** Bundles larger than this (uncompressed) are refused. */
const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;

const Manifest = z.object({ revision: z.string().max(256).optional(), roots: z.array(z.string()).optional() }).passthrough();

/** The files of a bundle directory or `.tar.gz` that a bundle reads, by path inside the bundle. */
export function readBundleFiles(dir: string): Map<string, Buffer> {
  const path = resolve(dir);
  if (!existsSync(path)) throw new BundleError('no such bundle directory or file', dir);
  return statSync(path).isDirectory() ? readDirectory(path) : readTarball(path);
}

export async function loadBundle(dir: string, options: LoadBundleOptions = {}): Promise<Bundle> {
  const files = readBundleFiles(dir);
  const bundle = assembleBundle(dir, files, options.celEngine ?? defaultCelEngine());
  if (bundle.regoModules.some((m) => !isTestFile(m.file)) || bundle.wasm) {
    bundle.backends.push(await createRegoBackendFor(bundle));
  }
  return bundle;
}

// loaded only for bundles with Rego, so CEL-only bundles never pay for the Rego engine
async function createRegoBackendFor(bundle: Bundle): Promise<PolicyBackend> {
  // a compiled `policy.wasm` is evaluated through opa-wasm, otherwise the built-in interpreter evaluates the modules
  if (bundle.wasm) return (await import('./rego/wasm.ts')).createWasmBackend(bundle);
  return (await import('./rego/backend.ts')).createRegoBackend(bundle);
}

function isTestFile(file: string): boolean {
  return /_test\.rego$/.test(file) || /_test\.cel\.ya?ml$/.test(file);
}

function readDirectory(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let total = 0;
  const realRoot = realpathSync(root);
  const visited = new Set<string>([realRoot]);
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(dir, entry.name);
      const rel = relative(root, full).split(sep).join('/');
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        // a link is followed only while its target stays inside the bundle: the bundle is what gets reviewed and hashed
        if (!isBundleFile(rel) && (entry.name.startsWith('.') || entry.name === 'node_modules')) continue;
        const target = symlinkTarget(full, rel, realRoot);
        if (target === undefined) continue;
        if (target.isDirectory) {
          if (visited.has(target.real)) continue; // a link back up the tree: already read
          visited.add(target.real);
        }
        isDirectory = target.isDirectory;
        isFile = !target.isDirectory;
      }
      if (isDirectory) {
        if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
        walk(full);
      } else if (isFile) {
        if (!isBundleFile(rel)) continue;
        const content = readFileSync(full);
        total += content.length;
        if (total > MAX_BUNDLE_BYTES) throw new BundleError(`bundle is larger than ${MAX_BUNDLE_BYTES} bytes`, root);
        files.set(rel, content);
      }
    }
  };
  walk(root);
  return files;
}

/**
 * Where a symlink in a bundle directory leads: a BundleError naming the link when a bundle file's target leaves the
 * bundle root or does not exist; undefined for links that are skipped (directories outside the root, other files).
 */
function symlinkTarget(full: string, rel: string, realRoot: string): { real: string; isDirectory: boolean } | undefined {
  let real: string;
  try {
    real = realpathSync(full);
  } catch {
    if (isBundleFile(rel)) throw new BundleError('symlink target does not exist', rel);
    return undefined;
  }
  const stat = statSync(real);
  if (!stat.isFile() && !stat.isDirectory()) return undefined;
  const inside = relative(realRoot, real);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    // only a bundle file would be read: a linked README, or a directory such as the shared `examples/`, is skipped
    if (stat.isDirectory() || !isBundleFile(rel)) return undefined;
    throw new BundleError(`symlink leaves the bundle root (it points to ${real}); copy the file into the bundle instead`, rel);
  }
  return { real, isDirectory: stat.isDirectory() };
}

function isBundleFile(rel: string): boolean {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  return (
    rel === '.manifest' ||
    rel === 'arbiter.yaml' ||
    rel === 'arbiter.yml' ||
    base === 'data.json' ||
    base === 'data.yaml' ||
    base === 'data.yml' ||
    base.endsWith('.rego') ||
    /\.cel\.ya?ml$/.test(base) ||
    base === 'policy.wasm'
  );
}

/** A minimal ustar reader for OPA bundles: regular files only, no absolute or `..` paths. */
function readTarball(file: string): Map<string, Buffer> {
  let tar: Buffer;
  try {
    tar = gunzipSync(readFileSync(file), { maxOutputLength: MAX_BUNDLE_BYTES });
  } catch (err) {
    throw new BundleError(`not a readable .tar.gz bundle: ${(err as Error).message}`, file);
  }
  const files = new Map<string, Buffer>();
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const str = (from: number, len: number): string => header.subarray(from, from + len).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(str(124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) throw new BundleError('corrupt tar header', file);
    const type = String.fromCharCode(header[156] ?? 48);
    const prefix = str(345, 155);
    let name = longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    longName = undefined;
    const body = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (type !== '0' && type !== '\0') continue;
    name = name.replace(/^\.?\//, '');
    if (name.startsWith('/') || name.split('/').includes('..')) throw new BundleError(`unsafe path ${JSON.stringify(name)} in bundle`, file);
    if (isBundleFile(name)) files.set(name, Buffer.from(body));
  }
  return files;
}

function parseStructured(text: string, file: string): unknown {
  try {
    if (file.endsWith('.json') || file === '.manifest') return JSON.parse(text);
    return YAML.parse(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (err) {
    throw new BundleError(`cannot parse: ${(err as Error).message.split('\n')[0]}`, file);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function mergeData(into: Record<string, unknown>, value: unknown, at: string[], file: string): void {
  let target = into;
  for (const key of at) {
    const next = target[key];
    if (next === undefined) target[key] = {};
    else if (!isRecord(next)) throw new BundleError(`data conflict at ${at.join('.')}`, file);
    target = target[key] as Record<string, unknown>;
  }
  if (!isRecord(value)) throw new BundleError('a data document must be an object', file);
  const deep = (t: Record<string, unknown>, v: Record<string, unknown>, path: string[]): void => {
    for (const [k, x] of Object.entries(v)) {
      if (isRecord(t[k]) && isRecord(x)) deep(t[k] as Record<string, unknown>, x, [...path, k]);
      else if (t[k] !== undefined) throw new BundleError(`data conflict at ${[...path, k].join('.')}`, file);
      else t[k] = x;
    }
  };
  deep(target, value, at);
}

/** Builds a bundle from its files (directory or tarball); Rego backends are attached by `loadBundle`. */
export function assembleBundle(dir: string, files: Map<string, Buffer>, celEngine: CelEngine): Bundle {
  const names = [...files.keys()].sort();
  const text = (name: string): string => files.get(name)!.toString('utf8');

  const digestInput: string[] = [];
  for (const name of names) {
    if (isTestFile(name)) continue;
    digestInput.push(name, '\0', files.get(name)!.toString('base64'), '\0');
  }
  const digest = `sha256:${sha256Hex(digestInput.join(''))}`;

  const manifestValue = files.has('.manifest') ? parseStructured(text('.manifest'), '.manifest') : {};
  const manifest = Manifest.safeParse(manifestValue);
  if (!manifest.success) throw new BundleError(manifest.error.issues[0]!.message, `.manifest: ${fieldPath(manifest.error.issues[0]!.path)}`);

  const settingsFile = files.has('arbiter.yaml') ? 'arbiter.yaml' : files.has('arbiter.yml') ? 'arbiter.yml' : undefined;
  const settingsParsed = BundleSettings.safeParse(settingsFile ? (parseStructured(text(settingsFile), settingsFile) ?? {}) : {});
  if (!settingsParsed.success) {
    const issue = settingsParsed.error.issues[0]!;
    throw new BundleError(issue.message, `${settingsFile}: ${fieldPath(issue.path) || '(document)'}`);
  }

  const data: Record<string, unknown> = {};
  for (const name of names) {
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (!/^data\.(json|ya?ml)$/.test(base)) continue;
    const at = name.includes('/') ? name.slice(0, name.lastIndexOf('/')).split('/') : [];
    mergeData(data, parseStructured(text(name), name), at, name);
  }
  const arbiterData = isRecord(data.arbiter) ? data.arbiter : {};
  const cost = CostModel.safeParse(arbiterData.cost ?? {});
  if (!cost.success) {
    const issue = cost.error.issues[0]!;
    throw new BundleError(issue.message, `data: arbiter.cost.${fieldPath(issue.path)}`);
  }

  const celPolicies: CompiledCelPolicy[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    if (!/\.cel\.ya?ml$/.test(name) || isTestFile(name)) continue;
    const policy = compileCelPolicy(text(name), name, celEngine);
    const earlier = seen.get(policy.name);
    if (earlier) throw new BundleError(`policy name "${policy.name}" is also used by ${earlier}`, name);
    seen.set(policy.name, name);
    celPolicies.push(policy);
  }

  const bundle: Bundle = {
    dir,
    revision: manifest.data.revision || `sha256:${digest.slice('sha256:'.length, 'sha256:'.length + 12)}`,
    roots: manifest.data.roots ?? [''],
    digest,
    settings: settingsParsed.data,
    data,
    cost: cost.data,
    backends: celPolicies.length > 0 ? [createCelBackend(celPolicies, data)] : [],
    regoModules: names.filter((n) => n.endsWith('.rego')).map((file) => ({ file, source: text(file) })),
    celPolicies,
    tests: names.filter((n) => /_test\.cel\.ya?ml$/.test(n)).map((file) => ({ file, source: text(file) })),
    celEngine,
  };
  if (files.has('policy.wasm')) bundle.wasm = { file: 'policy.wasm', bytes: new Uint8Array(files.get('policy.wasm')!) };
  return bundle;
}
