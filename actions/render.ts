// Render check (DESIGN §5): where Kustomize is used, the edited tree must still build with `kubectl kustomize`.
// A separate step after planning so `plan` stays pure; the GitOps layer calls it before committing.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, posix } from 'node:path';
import type { CatalogService } from '../engine/types.ts';
import { isInsidePaths, validateServicePaths } from './manifests.ts';
import type { FileEdit, TreeView } from './types.ts';
import { PlanRefusedError } from './types.ts';
import { parseDocuments } from './yaml-edit.ts';
import { isSeq, isScalar, isMap } from 'yaml';

export interface RenderResult {
  status: 'ok' | 'skipped' | 'not-applicable';
  /** Kustomization directories rendered (the roots: overlays, or bases nothing else builds on). */
  rendered: string[];
  detail: string;
}

export interface RenderOptions {
  /** kubectl binary; default: `kubectl` on PATH, else /usr/bin/kubectl. */
  kubectl?: string;
  timeoutMs?: number;
}

const KUSTOMIZATION = /(^|\/)(kustomization\.ya?ml|Kustomization)$/;

export function findKubectl(): string | undefined {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'kubectl')), '/usr/bin/kubectl'];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

/** Directories other kustomizations build on, so rendering the roots covers them. */
function referencedDirs(files: Map<string, string>): Set<string> {
  const out = new Set<string>();
  for (const [path, source] of files) {
    if (!KUSTOMIZATION.test(path)) continue;
    const root = parseDocuments(source)?.[0]?.contents;
    for (const key of ['resources', 'bases', 'components']) {
      const seq = isMap(root) ? root.get(key, true) : undefined;
      for (const item of isSeq(seq) ? seq.items : []) {
        if (isScalar(item)) out.add(posix.normalize(posix.join(posix.dirname(path), String(item.value))));
      }
    }
  }
  return out;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr: String(stderr || (err ? err.message : '')) });
    });
  });
}

/** kubectl logs through klog (`E1121 … run.go:72] "command failed" err="…"`); keep what a reader needs. */
export function kubectlMessage(line: string): string {
  const body = line.replace(/^[EWIF]\d{4} [\d:.]+\s+\d+ [\w.-]+:\d+\] /, '');
  const quoted = /^"command failed" err=(".*")$/.exec(body);
  if (quoted) {
    try {
      return `Error: ${JSON.parse(quoted[1]!) as string}`;
    } catch {
      return body;
    }
  }
  return body;
}

export async function checkRender(tree: TreeView, edits: FileEdit[], service: CatalogService, options: RenderOptions = {}): Promise<RenderResult> {
  const paths = validateServicePaths(service.paths);
  const files = new Map<string, string>();
  for (const f of new Set(paths.flatMap((p) => tree.list(p)))) {
    const source = isInsidePaths(f, paths) ? tree.read(f) : undefined;
    if (source !== undefined) files.set(f, source);
  }
  for (const e of edits) {
    if (!isInsidePaths(e.path, paths)) continue;
    if (e.after === null) files.delete(e.path);
    else files.set(e.path, e.after);
  }
  const kustomizations = [...files.keys()].filter((f) => KUSTOMIZATION.test(f));
  if (kustomizations.length === 0) return { status: 'not-applicable', rendered: [], detail: 'no kustomization in the service paths' };
  const kubectl = options.kubectl === undefined ? findKubectl() : options.kubectl || undefined;
  if (!kubectl) return { status: 'skipped', rendered: [], detail: 'skipped: kubectl not found' };
  const referenced = referencedDirs(files);
  const roots = [...new Set(kustomizations.map((k) => posix.dirname(k)))].filter((d) => !referenced.has(d)).sort();
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-render-'));
  try {
    for (const [path, source] of files) {
      await mkdir(join(dir, posix.dirname(path)), { recursive: true });
      await writeFile(join(dir, path), source);
    }
    for (const root of roots) {
      const { code, stderr } = await run(kubectl, ['kustomize', join(dir, root)], options.timeoutMs ?? 30_000);
      if (code !== 0) {
        const first = stderr.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? `exit code ${code}`;
        throw new PlanRefusedError(`the edited tree does not render: kubectl kustomize ${root}: ${kubectlMessage(first).split(`${dir}/`).join('')}`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { status: 'ok', rendered: roots, detail: `kubectl kustomize rendered ${roots.join(', ')}` };
}

