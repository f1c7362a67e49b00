// JSON Schema → Rego type (OPA's schemaParser in ast/compile.go), so that `input` can be type-checked against the
// schema of the documents a policy is given (`opa check --schema`). As OPA: an object with `properties` has exactly
// those keys (a ref to any other key is an error), an object without them has any keys; `anyOf` is a union; what the
// schema leaves open is `any`. Where OPA's reading is stricter than the schema's (allOf merging), this reads `any`:
// a missed error is acceptable, a false one is not.
import type { Ty } from './typecheck.ts';

const ANY: Ty = { type: 'any' };

type Schema = Record<string, unknown>;

function isSchema(x: unknown): x is Schema {
  return !!x && typeof x === 'object' && !Array.isArray(x);
}

/** The Rego type of values the JSON Schema admits. */
export function typeOfJsonSchema(schema: unknown): Ty {
  const root = schema;
  const resolving = new Set<string>();

  const resolveRef = (ref: string): unknown => {
    if (!ref.startsWith('#')) return undefined; // remote refs: unknown
    let cur: unknown = root;
    for (const raw of ref.slice(1).split('/').filter(Boolean)) {
      const seg = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (!isSchema(cur)) return undefined;
      cur = cur[seg];
    }
    return cur;
  };

  const typeOfName = (name: unknown, s: Schema): Ty => {
    switch (name) {
      case 'boolean':
        return { type: 'boolean' };
      case 'string':
        return { type: 'string' };
      case 'integer':
      case 'number':
        return { type: 'number' };
      case 'null':
        return { type: 'null' };
      case 'object':
        return objectType(s);
      case 'array':
        return arrayType(s);
      default:
        return ANY;
    }
  };

  const objectType = (s: Schema): Ty => {
    if (!isSchema(s.properties) || Object.keys(s.properties).length === 0) return { type: 'object' };
    const fields: Array<[string, Ty]> = Object.entries(s.properties).map(([k, v]) => [k, walk(v)]);
    fields.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { type: 'record', fields };
  };

  const arrayType = (s: Schema): Ty => {
    if (Array.isArray(s.prefixItems)) return { type: 'tuple', items: s.prefixItems.map(walk) };
    if (Array.isArray(s.items)) return { type: 'tuple', items: s.items.map(walk) };
    if (isSchema(s.items)) return { type: 'array', of: walk(s.items) };
    return { type: 'array' };
  };

  const walk = (s: unknown): Ty => {
    if (!isSchema(s)) return ANY;
    if (typeof s.$ref === 'string') {
      if (resolving.has(s.$ref)) return ANY; // a recursive definition: not followed
      resolving.add(s.$ref);
      try {
        return walk(resolveRef(s.$ref));
      } finally {
        resolving.delete(s.$ref);
      }
    }
    if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) {
      const members = ((s.anyOf ?? s.oneOf) as unknown[]).map(walk);
      return union(members);
    }
    if (s.allOf !== undefined) return ANY;
    if (Array.isArray(s.type)) return union(s.type.map((t) => typeOfName(t, s)));
    if (s.type !== undefined) return typeOfName(s.type, s);
    if (isSchema(s.properties)) return objectType(s);
    if (s.items !== undefined || s.prefixItems !== undefined) return arrayType(s);
    return ANY;
  };

  return walk(schema);
}

function union(members: Ty[]): Ty {
  if (members.length === 0) return ANY;
  if (members.some((m) => m.type === 'any')) return ANY;
  return members.length === 1 ? (members[0] as Ty) : { type: 'union', of: members };
}
