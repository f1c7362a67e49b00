// json.verify_schema / json.match_schema: validation by Ajv, errors reshaped into OPA's gojsonschema form
// ({error, type, field, desc}) so policies that inspect them keep working.
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Value } from '../value.ts';
import { RObject, toJSON } from '../value.ts';

const VALID_TYPES = ['array', 'boolean', 'integer', 'number', 'null', 'object', 'string'];

export class SchemaError extends Error {}

const ajv = new Ajv({ allErrors: true, strict: false, logger: false, validateFormats: false });
const COMPILED = new Map<string, ValidateFunction>();

/** Plain JSON for Ajv: sets become arrays, big integers become doubles (Ajv has no bigint). */
export function plainJSON(v: Value): unknown {
  const walk = (x: unknown): unknown => {
    if (typeof x === 'bigint') return Number(x);
    if (Array.isArray(x)) return x.map(walk);
    if (x !== null && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(x)) out[k] = walk(val);
      return out;
    }
    return x;
  };
  return walk(toJSON(v));
}

/** gojsonschema rejects an unknown primitive type with this exact wording. */
function checkTypes(schema: unknown): void {
  if (Array.isArray(schema)) {
    schema.forEach(checkTypes);
    return;
  }
  if (schema === null || typeof schema !== 'object') return;
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'type') {
      for (const t of Array.isArray(v) ? v : [v]) {
        if (typeof t === 'string' && !VALID_TYPES.includes(t)) {
          throw new SchemaError(`has a primitive type that is NOT VALID -- given: /${t}/ Expected valid values are:[${VALID_TYPES.join(' ')}]`);
        }
      }
    } else if (k !== 'enum' && k !== 'const' && k !== 'default' && k !== 'examples') checkTypes(v);
  }
}

export function compileSchema(schema: unknown): ValidateFunction {
  const key = JSON.stringify(schema);
  const hit = COMPILED.get(key);
  if (hit) return hit;
  checkTypes(schema);
  const copy = schema !== null && typeof schema === 'object' && !Array.isArray(schema) ? { ...(schema as Record<string, unknown>) } : schema;
  // draft markers select nothing here: Ajv validates draft-04..07 keywords alike in non-strict mode
  if (copy && typeof copy === 'object') delete (copy as Record<string, unknown>).$schema;
  let fn: ValidateFunction;
  try {
    fn = ajv.compile(copy as object);
  } catch (e) {
    throw new SchemaError((e as Error).message);
  }
  if (COMPILED.size > 500) COMPILED.clear();
  COMPILED.set(key, fn);
  return fn;
}

const goType = (x: unknown): string => {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'array';
  if (typeof x === 'number') return Number.isInteger(x) ? 'integer' : 'number';
  return typeof x;
};

function valueAt(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const seg of pointer.split('/').slice(1)) {
    const key = seg.replaceAll('~1', '/').replaceAll('~0', '~');
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
  }
  return cur;
}

const fieldOf = (pointer: string): string =>
  pointer === '' ? '(root)' : pointer.split('/').slice(1).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~')).join('.');

const list = (xs: unknown[]): string => xs.map((x) => JSON.stringify(x)).join(', ');

/** One Ajv error as gojsonschema's (type, description). */
function describe(e: ErrorObject, doc: unknown, field: string): { type: string; desc: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': {
      const expected = Array.isArray(p.type) ? (p.type as string[]).join(', ') : String(p.type);
      return { type: 'invalid_type', desc: `Invalid type. Expected: ${expected}, given: ${goType(valueAt(doc, e.instancePath))}` };
    }
    case 'required':
      return { type: 'required', desc: `${String(p.missingProperty)} is required` };
    case 'enum':
      return { type: 'enum', desc: `${field} must be one of the following: ${list(p.allowedValues as unknown[])}` };
    case 'const':
      return { type: 'const', desc: `${field} does not match: ${JSON.stringify(p.allowedValue)}` };
    case 'minLength':
      return { type: 'string_gte', desc: `String length must be greater than or equal to ${String(p.limit)}` };
    case 'maxLength':
      return { type: 'string_lte', desc: `String length must be less than or equal to ${String(p.limit)}` };
    case 'pattern':
      return { type: 'pattern', desc: `Does not match pattern '${String(p.pattern)}'` };
    case 'format':
      return { type: 'format', desc: `Does not match format '${String(p.format)}'` };
    case 'minimum':
      return { type: 'number_gte', desc: `Must be greater than or equal to ${String(p.limit)}` };
    case 'maximum':
      return { type: 'number_lte', desc: `Must be less than or equal to ${String(p.limit)}` };
    case 'exclusiveMinimum':
      return { type: 'number_gt', desc: `Must be greater than ${String(p.limit)}` };
    case 'exclusiveMaximum':
      return { type: 'number_lt', desc: `Must be less than ${String(p.limit)}` };
    case 'multipleOf':
      return { type: 'multiple_of', desc: `Must be a multiple of ${String(p.multipleOf)}` };
    case 'minItems':
      return { type: 'array_min_items', desc: `Array must have at least ${String(p.limit)} items` };
    case 'maxItems':
      return { type: 'array_max_items', desc: `Array must have at most ${String(p.limit)} items` };
    case 'uniqueItems':
      return { type: 'unique', desc: `array items[${String(p.j)},${String(p.i)}] must be unique` };
    case 'additionalProperties':
      return { type: 'additional_property_not_allowed', desc: `Additional property ${String(p.additionalProperty)} is not allowed` };
    case 'minProperties':
      return { type: 'array_min_properties', desc: `Must have at least ${String(p.limit)} properties` };
    case 'maxProperties':
      return { type: 'array_max_properties', desc: `Must have at most ${String(p.limit)} properties` };
    case 'anyOf':
      return { type: 'number_any_of', desc: 'Must validate at least one schema (anyOf)' };
    case 'oneOf':
      return { type: 'number_one_of', desc: 'Must validate one and only one schema (oneOf)' };
    case 'not':
      return { type: 'number_not', desc: 'Must not validate the schema (not)' };
    case 'if':
      return { type: `condition_${String(p.failingKeyword)}`, desc: `Must validate "${String(p.failingKeyword)}" as "if" was ${p.failingKeyword === 'then' ? 'valid' : 'not valid'}` };
    default:
      return { type: e.keyword, desc: e.message ?? e.keyword };
  }
}

/** Validation errors in OPA's shape: [{error, type, field, desc}]. */
export function schemaErrors(fn: ValidateFunction, doc: unknown): Value[] {
  if (fn(doc)) return [];
  return (fn.errors ?? []).map((e) => {
    const field = fieldOf(e.instancePath);
    const { type, desc } = describe(e, doc, field);
    return RObject.fromRecord({ error: `${field}: ${desc}`, type, field, desc });
  });
}
