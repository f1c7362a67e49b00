// Locating a service's resources inside its catalog paths: plain (multi-document) manifests, Kustomize
// bases and overlays, Helm values files. Nothing outside the paths is ever read for editing.
import { isMap, isScalar, isSeq } from 'yaml';
import type { Document } from 'yaml';
import type { FileEdit, TreeView } from './types.ts';
import { PlanRefusedError } from './types.ts';
import { applySplices, parseDocuments, stringAt, verifyYamlEdit } from './yaml-edit.ts';
import type { Splice } from './yaml-edit.ts';

export const DEFAULT_ENVIRONMENT = 'production';

export interface ManifestDoc {
  path: string;
  source: string;
  doc: Document.Parsed;
  kind: string;
  name: string;
  namespace?: string;
}

export interface Kustomization {
  path: string;
  dir: string;
  source: string;
  doc: Document.Parsed;
  /** An overlay builds on something outside its own directory (`resources: [../../base]`). */
  overlay: boolean;
  /** The overlay's environment: its directory name (`overlays/production` → `production`). */
  environment?: string;
}

export interface HelmValues {
  path: string;
  source: string;
  doc: Document.Parsed;
}

export interface ServiceManifests {
  paths: string[];
  resources: ManifestDoc[];
  kustomizations: Kustomization[];
  helmValues: HelmValues[];
  /** YAML files that do not parse (e.g. Helm templates); never edited. */
  unparsable: string[];
}

const KUSTOMIZATION_FILES = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);

const dirOf = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** Catalog paths are prefixes; `apps/checkout` covers `apps/checkout/…` but never `apps/checkout-v2/…`. */
export function isInsidePaths(path: string, paths: string[]): boolean {
  return paths.some((p) => {
    const prefix = p.replace(/^\.\//, '');
    if (prefix === '') return false;
    return prefix.endsWith('/') ? path.startsWith(prefix) : path === prefix || path.startsWith(`${prefix}/`);
  });
}

/** Refuse any plan whose edits leave the service's paths: the blast-radius allowlist (DESIGN §4.6). */
export function assertInsidePaths(edits: FileEdit[], paths: string[]): void {
  for (const e of edits) {
    const bad = e.path.split('/').some((seg) => seg === '..' || seg === '.' || seg === '') || e.path.startsWith('/');
    if (bad || !isInsidePaths(e.path, paths)) {
      throw new PlanRefusedError(`edit to ${e.path} is outside the service's paths (${paths.join(', ')})`);
    }
  }
}

export function validateServicePaths(paths: string[]): string[] {
  if (paths.length === 0) throw new PlanRefusedError('the service has no paths in the catalog: arbiter edits nothing it cannot bound');
  for (const p of paths) {
    if (p.startsWith('/') || p.split('/').some((seg) => seg === '..') || p.replace(/^\.\//, '') === '') {
      throw new PlanRefusedError(`catalog path "${p}" must be a relative directory inside the repository`);
    }
  }
  return paths.map((p) => p.replace(/^\.\//, ''));
}

export function loadServiceManifests(tree: TreeView, servicePaths: string[]): ServiceManifests {
  const paths = validateServicePaths(servicePaths);
  const files = [...new Set(paths.flatMap((p) => tree.list(p)))].filter((f) => isInsidePaths(f, paths)).sort();
  const chartDirs = new Set(files.filter((f) => baseName(f) === 'Chart.yaml').map(dirOf));
  const out: ServiceManifests = { paths, resources: [], kustomizations: [], helmValues: [], unparsable: [] };
  for (const path of files) {
    const name = baseName(path);
    if (!/\.ya?ml$/.test(name) && name !== 'Kustomization') continue;
    if ([...chartDirs].some((d) => path.startsWith(`${d}/templates/`))) continue;
    const source = tree.read(path);
    if (source === undefined) continue;
    const docs = parseDocuments(source);
    if (!docs) {
      out.unparsable.push(path);
      continue;
    }
    if (KUSTOMIZATION_FILES.has(name)) {
      const doc = docs[0];
      if (doc) out.kustomizations.push(describeKustomization(path, source, doc));
      continue;
    }
    if (chartDirs.has(dirOf(path)) && /^values(-[\w.-]+)?\.ya?ml$/.test(name)) {
      if (docs[0]) out.helmValues.push({ path, source, doc: docs[0] });
      continue;
    }
    for (const doc of docs) {
      const kind = stringAt(doc.contents, ['kind']);
      const objName = stringAt(doc.contents, ['metadata', 'name']);
      if (!kind || !objName) continue;
      out.resources.push({ path, source, doc, kind, name: objName, namespace: stringAt(doc.contents, ['metadata', 'namespace']) });
    }
  }
  return out;
}

function describeKustomization(path: string, source: string, doc: Document.Parsed): Kustomization {
  const dir = dirOf(path);
  const refs: string[] = [];
  for (const key of ['resources', 'bases', 'components']) {
    const seq = isMap(doc.contents) ? doc.contents.get(key, true) : undefined;
    if (isSeq(seq)) for (const item of seq.items) if (isScalar(item)) refs.push(String(item.value));
  }
  const overlay = refs.some((r) => r.startsWith('../'));
  return { path, dir, source, doc, overlay, environment: overlay ? baseName(dir) : undefined };
}

export function overlayFor(m: ServiceManifests, environment: string): Kustomization | undefined {
  return m.kustomizations.find((k) => k.overlay && k.environment === environment);
}

/**
 * Resources of `kinds` named `name` (namespace unset or equal), best first: the environment's overlay copy
 * (a patch), then copies outside every overlay (the base); other environments' overlays never match.
 */
export function findResources(
  m: ServiceManifests,
  kinds: string[],
  name: string | undefined,
  namespace: string | undefined,
  environment: string,
): ManifestDoc[] {
  const overlays = m.kustomizations.filter((k) => k.overlay);
  const rank = (r: ManifestDoc): number => {
    const home = overlays.find((k) => r.path.startsWith(`${k.dir}/`));
    if (!home) return 1;
    return home.environment === environment ? 0 : -1;
  };
  return m.resources
    .filter((r) => kinds.includes(r.kind) && (name === undefined || r.name === name))
    .filter((r) => !namespace || !r.namespace || r.namespace === namespace)
    .filter((r) => rank(r) >= 0)
    .sort((a, b) => rank(a) - rank(b));
}

/** The workload a service-level action acts on: named like the service, else the only one there is. */
export function findWorkload(
  m: ServiceManifests,
  service: string,
  namespace: string | undefined,
  environment: string,
  kinds = ['Deployment', 'StatefulSet'],
): ManifestDoc | undefined {
  const named = findResources(m, kinds, service, namespace, environment);
  if (named.length > 0) return named[0];
  const all = findResources(m, kinds, undefined, namespace, environment);
  const names = [...new Set(all.map((r) => `${r.kind}/${r.name}`))];
  if (names.length > 1) {
    throw new PlanRefusedError(`no workload named ${service} and several candidates (${names.join(', ')}); name one in the catalog`);
  }
  return all[0];
}

/** Collects splices per file and turns them into whole-file edits (only files that really change). */
export class EditSet {
  private readonly files = new Map<string, { source: string; splices: Splice[] }>();

  add(path: string, source: string, splice: Splice | null): void {
    if (!splice) return;
    const entry = this.files.get(path) ?? { source, splices: [] };
    entry.splices.push(splice);
    this.files.set(path, entry);
  }

  edits(): FileEdit[] {
    const out: FileEdit[] = [];
    for (const [path, { source, splices }] of [...this.files].sort(([a], [b]) => a.localeCompare(b))) {
      const after = applySplices(source, splices);
      if (after === source) continue;
      // every YAML edit is re-parsed and compared with what it meant to change (actions/yaml-edit.ts)
      verifyYamlEdit(path, source, after, splices);
      out.push({ path, before: source, after });
    }
    return out;
  }
}
