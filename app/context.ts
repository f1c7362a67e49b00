// The one context-from-repository builder (issue 9): what a GitOps repository contributes to a decision's Context
// (`.arbiter/catalog.yaml`, `.arbiter/calendar.yaml`, the `.arbiter/pause` kill switch) read from a Git tree or a
// working directory, and assembled with the engine's `assembleContext` into the Context and the service's entry.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import type { BuildContextArgs, CalendarSpec } from '../engine/context.ts';
import { InputError } from '../engine/errors.ts';
import type { ContextOverride } from '../engine/ingest.ts';
import type { Catalog, CatalogService, Context, Diagnosis } from '../engine/types.ts';
import { readCommit, readPath } from '../gitops/commit.ts';
import { ObjectStore } from '../gitops/objects.ts';
import { readRef } from '../gitops/repo.ts';

export const CATALOG_FILE = '.arbiter/catalog.yaml';
export const CALENDAR_FILE = '.arbiter/calendar.yaml';
export const KILL_SWITCH_FILE = '.arbiter/pause';
const MAX_FILE_BYTES = 1024 * 1024;

/** What a repository contributes to the Context. */
export interface RepositorySources {
  catalog?: Catalog;
  calendar?: CalendarSpec;
  killSwitch: boolean;
}

export interface SourceParsers {
  parseCatalog(text: string, file: string): Catalog;
  parseCalendar(text: string, file: string): CalendarSpec;
  /**
   * The same parsers in two steps (text → document → validated). When given, a file's document is kept on disk by
   * blob id (see `cachedDocument`), so a fresh process skips YAML parsing of a large catalog; it is still validated.
   */
  documents?: {
    parseDocument(text: string, file: string): unknown;
    validateCatalog(value: unknown, file: string): Catalog;
    validateCalendar(value: unknown, file: string): CalendarSpec;
  };
}

/** Assembles the Context and the target service's catalog entry (engine/context.ts `assembleContext`). */
export type ContextAssembler = (input: BuildContextArgs) => { context: Context; service: CatalogService; known: boolean };

/** Parsed `.arbiter/*.yaml` by blob oid: content-addressed, so a long-running process parses each version once. */
const parsedBlobs = new Map<string, Catalog | CalendarSpec>();

async function readParsed<T extends Catalog | CalendarSpec>(store: ObjectStore, tree: string, path: string, parse: (text: string, file: string) => T, inSteps?: { parseDocument(text: string, file: string): unknown; validate(value: unknown, file: string): T }): Promise<T | undefined> {
  const found = await readPath(store, tree, path);
  if (!found || found.mode === '40000') return undefined;
  const key = `${path}@${found.oid}`;
  const cached = parsedBlobs.get(key);
  if (cached !== undefined) return cached as T;
  const text = async () => (await store.readBlob(found.oid)).toString('utf8');
  const value = inSteps ? inSteps.validate(await cachedDocument(store.gitdir, found.oid, path, text, inSteps.parseDocument), path) : parse(await text(), path);
  if (parsedBlobs.size >= 32) parsedBlobs.delete(parsedBlobs.keys().next().value!);
  parsedBlobs.set(key, value);
  return value;
}

/**
 * The parsed document of blob `oid`, kept as JSON under `<gitdir>/arbiter-cache/documents/` (content-addressed: a
 * blob id names one text forever). Kept only when JSON holds it exactly (no -0, Infinity, NaN); a missing or
 * unreadable entry is parsed again. The caller validates the value either way.
 */
async function cachedDocument(gitdir: string, oid: string, path: string, text: () => Promise<string>, parseDocument: (text: string, file: string) => unknown): Promise<unknown> {
  const dir = join(gitdir, 'arbiter-cache', 'documents');
  const file = join(dir, `${oid}.json`);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    // not kept yet, or unreadable: parse the text
  }
  const value = parseDocument(await text(), path);
  const json = JSON.stringify(value);
  if (json !== undefined && isDeepStrictEqual(JSON.parse(json), value)) {
    try {
      await mkdir(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, json);
      await rename(tmp, file);
    } catch {
      // a read-only repository: parse again next time
    }
  }
  return value;
}

/** The sources in a commit's tree (act, reconcile: the target branch's tip). */
export async function sourcesFromTree(store: ObjectStore, tree: string, parsers: SourceParsers): Promise<RepositorySources> {
  const out: RepositorySources = { killSwitch: (await readPath(store, tree, KILL_SWITCH_FILE)) !== undefined };
  const docs = parsers.documents;
  const catalog = await readParsed(store, tree, CATALOG_FILE, parsers.parseCatalog, docs && { parseDocument: docs.parseDocument, validate: docs.validateCatalog });
  const calendar = await readParsed(store, tree, CALENDAR_FILE, parsers.parseCalendar, docs && { parseDocument: docs.parseDocument, validate: docs.validateCalendar });
  if (catalog) out.catalog = catalog;
  if (calendar) out.calendar = calendar;
  return out;
}

/** Standard input is read once per process: a second `-` would see it empty, so it is refused instead. */
let stdinRead = false;

/** `-`: standard input, at most 1 MiB (the same limit as a file). */
function readStandardInput(): string {
  if (stdinRead) throw new InputError('standard input was already read by another option', '-');
  stdinRead = true;
  let text: string;
  try {
    text = readFileSync(0, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read standard input (${(err as NodeJS.ErrnoException).code ?? String(err)})`, '-');
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_FILE_BYTES) throw new InputError(`document is larger than ${MAX_FILE_BYTES} bytes`, 'stdin');
  return text;
}

/**
 * A document the user named: a regular file of at most 1 MiB, else an InputError naming it. `-` is standard input
 * (the one place every command reads a named document: `--diagnosis -`, `--context -`, `--alert -`, `--input -`).
 */
export function readInputFile(file: string): string {
  if (file === '-') return readStandardInput();
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw new InputError('no such file', file);
  }
  if (!stat.isFile()) throw new InputError('not a regular file', file);
  if (stat.size > MAX_FILE_BYTES) throw new InputError(`document is larger than ${MAX_FILE_BYTES} bytes`, file);
  return readFileSync(file, 'utf8');
}

/** The sources in a working directory (`arbiter decide --repo`, a replay set's `repo`). */
export function sourcesFromDirectory(dir: string, parsers: SourceParsers): RepositorySources {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError('not a directory', dir);
  const out: RepositorySources = { killSwitch: existsSync(join(dir, KILL_SWITCH_FILE)) };
  const catalogFile = join(dir, CATALOG_FILE);
  const calendarFile = join(dir, CALENDAR_FILE);
  if (existsSync(catalogFile)) out.catalog = parsers.parseCatalog(readInputFile(catalogFile), catalogFile);
  if (existsSync(calendarFile)) out.calendar = parsers.parseCalendar(readInputFile(calendarFile), calendarFile);
  return out;
}

/**
 * The sources `arbiter decide --repo` reads: from a bare repository, the tip of `branch` exactly as `act` reads it
 * (sourcesFromTree); from a work tree, its files as they are on disk (so an edit can be tried before it is committed).
 */
export async function sourcesFromLocation(location: string, parsers: SourceParsers, branch = 'main'): Promise<RepositorySources> {
  const bare = !existsSync(join(location, '.git')) && existsSync(join(location, 'HEAD')) && existsSync(join(location, 'objects')) && existsSync(join(location, 'refs'));
  if (!bare) return sourcesFromDirectory(location, parsers);
  const tip = await readRef(location, `refs/heads/${branch}`);
  if (!tip) throw new InputError(`the bare repository has no branch ${branch}`, location);
  const store = new ObjectStore(location);
  try {
    return await sourcesFromTree(store, (await readCommit(store, tip)).tree, parsers);
  } finally {
    store.close();
  }
}

/** The Context and the service's catalog entry for a diagnosis, from repository sources plus bundle data. */
export function contextFromRepository(
  assemble: ContextAssembler,
  input: { diagnosis: Diagnosis; now: string; sources: RepositorySources; bundleData: unknown; history?: Context['history']; override?: ContextOverride },
): { context: Context; service: CatalogService; known: boolean } {
  const { sources } = input;
  return assemble({
    diagnosis: input.diagnosis,
    now: input.now,
    ...(sources.catalog ? { catalog: sources.catalog } : {}),
    ...(sources.calendar ? { calendar: sources.calendar } : {}),
    killSwitch: sources.killSwitch,
    bundleData: input.bundleData,
    ...(input.history ? { history: input.history } : {}),
    ...(input.override ? { override: input.override } : {}),
  });
}
