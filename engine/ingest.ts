// Ingest: untrusted Diagnosis and Context documents (JSON, YAML, CloudEvents) → validated values (DESIGN §2, §3).
import YAML from 'yaml';
import { z } from 'zod';
import { InputError } from './errors.ts';
import { Context, Diagnosis } from './types.ts';

/** Documents larger than this are refused before parsing. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;
/** Deeper nesting than this is refused (a Diagnosis needs about 6 levels). */
export const MAX_NESTING_DEPTH = 32;

export type DeepPartial<T> = T extends Array<infer U> ? Array<U> : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** `hypotheses[0].confidence` from a zod issue path. */
export function fieldPath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const got = (v: unknown): string => (v === undefined ? 'nothing' : Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      return input === undefined ? 'is required' : `must be ${issue.expected === 'object' ? 'an object' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`} (got ${got(input)})`;
    case 'too_big':
      return issue.origin === 'number' || issue.origin === 'int' ? `must be ${issue.inclusive === false ? '<' : '≤'} ${String(issue.maximum)}` : `must have at most ${String(issue.maximum)} ${issue.origin === 'string' ? 'characters' : 'entries'}`;
    case 'too_small':
      return issue.origin === 'number' || issue.origin === 'int' ? `must be ${issue.inclusive === false ? '>' : '≥'} ${String(issue.minimum)}` : `must have at least ${String(issue.minimum)} ${issue.origin === 'string' ? 'characters' : 'entries'}`;
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')} (got ${got(input)})`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    default:
      return issue.message;
  }
}

/** Every schema issue as `field: problem` (a configuration reports all its problems at once). */
export function schemaProblems(error: z.ZodError, pathPrefix = ''): string[] {
  return error.issues.map((issue) => `${fieldPath(issue.path, pathPrefix) || '(document)'}: ${describeIssue(issue)}`);
}

/** Turns the first schema issue into an InputError naming the document and the field. */
export function schemaError(error: z.ZodError, source: string, pathPrefix = ''): InputError {
  const issue = error.issues[0]!;
  const field = fieldPath(issue.path, pathPrefix) || '(document)';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return new InputError(`${describeIssue(issue)}${more}`, `${source}: ${field}`);
}

function checkDepth(value: unknown, source: string, depth = 0): void {
  if (depth > MAX_NESTING_DEPTH) throw new InputError(`nesting deeper than ${MAX_NESTING_DEPTH} levels`, source);
  if (value && typeof value === 'object') for (const v of Object.values(value)) checkDepth(v, source, depth + 1);
}

/**
 * Parses one JSON or YAML document from untrusted text: size-limited, no YAML aliases (no alias bombs),
 * unique keys, bounded depth. JSON is tried when the text starts with `{` or `[`.
 */
export function parseDocument(text: string, source: string): unknown {
  if (Buffer.byteLength(text, 'utf8') > MAX_DOCUMENT_BYTES) {
    throw new InputError(`document is larger than ${MAX_DOCUMENT_BYTES} bytes`, source);
  }
  let value: unknown;
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new InputError(`not valid JSON: ${(err as Error).message}`, source);
    }
  } else {
    try {
      const docs = YAML.parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
      const list = Array.isArray(docs) ? docs : [docs];
      if (list.length !== 1) throw new Error(list.length === 0 ? 'the document is empty' : 'expected one YAML document, found several');
      const doc = list[0]!;
      if (doc.errors.length > 0) throw doc.errors[0]!;
      value = doc.toJS({ maxAliasCount: 0 });
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0]!;
      throw new InputError(/alias/i.test(msg) ? `YAML aliases are not accepted (${msg})` : `not valid YAML: ${msg}`, source);
    }
  }
  checkDepth(value, source);
  return value;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A CloudEvent in structured JSON mode (`specversion` + `data`) is unwrapped to its `data`;
 * field paths in errors then start with `data.`.
 */
function unwrapCloudEvent(doc: unknown, source: string): { body: unknown; prefix: string } {
  if (!isRecord(doc) || !('specversion' in doc)) return { body: doc, prefix: '' };
  if (doc.specversion !== '1.0') throw new InputError(`unsupported CloudEvents specversion ${JSON.stringify(doc.specversion)} (expected "1.0")`, `${source}: specversion`);
  const ct = doc.datacontenttype;
  if (ct !== undefined && (typeof ct !== 'string' || !/(^|[/+])json(;|$)|yaml/i.test(ct))) {
    throw new InputError(`unsupported datacontenttype ${JSON.stringify(ct)} (expected JSON)`, `${source}: datacontenttype`);
  }
  if ('data_base64' in doc) throw new InputError('binary CloudEvent data is not accepted; send the Diagnosis as JSON data', `${source}: data_base64`);
  let data = doc.data;
  if (typeof data === 'string') data = parseDocument(data, `${source}: data`);
  if (data === undefined) throw new InputError('is required (the Diagnosis)', `${source}: data`);
  return { body: data, prefix: 'data' };
}

/** Parses and validates a Diagnosis (JSON, YAML, or a CloudEvent carrying one). Throws InputError naming the field. */
export function parseDiagnosis(text: string, source: string): Diagnosis {
  const { body, prefix } = unwrapCloudEvent(parseDocument(text, source), source);
  return validateDiagnosis(body, source, prefix);
}

/** Validates an already-parsed Diagnosis value. */
export function validateDiagnosis(value: unknown, source: string, pathPrefix = ''): Diagnosis {
  const r = Diagnosis.safeParse(value, { reportInput: true });
  if (!r.success) throw schemaError(r.error, source, pathPrefix);
  return r.data;
}

/** A Context where every field, at every level, is optional: explicit values that win over the assembled context. */
export const ContextOverride = z
  .object({
    now: Context.shape.now.optional(),
    service: Context.shape.service.partial().optional(),
    calendar: Context.shape.calendar.partial().optional(),
    history: Context.shape.history.partial().optional(),
    killSwitch: Context.shape.killSwitch.optional(),
  })
  .strict();
export type ContextOverride = DeepPartial<Context>;

/** Parses a (partial) Context file, e.g. `--context FILE`. */
export function parseContextOverride(text: string, source: string): ContextOverride {
  return validateContextOverride(parseDocument(text, source), source);
}

export function validateContextOverride(value: unknown, source: string): ContextOverride {
  const r = ContextOverride.safeParse(value ?? {}, { reportInput: true });
  if (!r.success) throw schemaError(r.error, source);
  return r.data as ContextOverride;
}
