// The CEL types of what a policy sees (DESIGN §4.1), generated from the JSON Schemas of the zod schemas that validate
// the input (never written by hand a second time): an object with properties becomes a message type, so a misspelt
// field (`h.casue`) or a wrong type (`context.calendar.businessHours == "yes"`) is a load error.
import { z } from 'zod';
import { ActionSchema, Context, Diagnosis } from '../types.ts';
import type { CelObjectType, CelVariable } from './engine.ts';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
}

/** The CEL type of a JSON Schema; object types are added to `types` under `name`. */
function celTypeOf(schema: JsonSchema, name: string, types: CelObjectType[]): string {
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    const nonNull = alternatives.filter((s) => s.type !== 'null');
    // `string | null` and other unions: any value (its fields, if any, are still checked where they are objects)
    return nonNull.length === 1 && nonNull.length === alternatives.length ? celTypeOf(nonNull[0]!, name, types) : 'dyn';
  }
  const type = Array.isArray(schema.type) ? (schema.type.length === 1 ? schema.type[0] : undefined) : schema.type;
  if (type === undefined && schema.const !== undefined) return typeof schema.const === 'string' ? 'string' : 'dyn';
  switch (type) {
    case 'string':
      return 'string';
    // JSON numbers are doubles when policies read them, integers included: `incidentActions >= 3.0`
    case 'number':
    case 'integer':
      return 'double';
    case 'boolean':
      return 'bool';
    case 'array':
      return `list<${schema.items ? celTypeOf(schema.items, `${name}.item`, types) : 'dyn'}>`;
    case 'object': {
      if (schema.properties && Object.keys(schema.properties).length > 0) {
        const fields: Record<string, string> = {};
        for (const [field, s] of Object.entries(schema.properties)) fields[field] = celTypeOf(s, `${name}.${field}`, types);
        types.push({ name, fields });
        return name;
      }
      const values = typeof schema.additionalProperties === 'object' ? celTypeOf(schema.additionalProperties, `${name}.value`, types) : 'dyn';
      return `map<string, ${values}>`;
    }
    default:
      return 'dyn';
  }
}

export interface CelDeclarations {
  /** Message types, each declared before the types that use it. */
  types: CelObjectType[];
  /** `diagnosis`, `context`, `now`, `data`, `variables` (proposals) and `action` too (judging). */
  propose: CelVariable[];
  judge: CelVariable[];
}

let cached: CelDeclarations | undefined;

/** The declarations of every variable a CEL policy sees, from `Diagnosis`, `Context` and `ActionSchema`. */
export function celDeclarations(): CelDeclarations {
  if (cached) return cached;
  const types: CelObjectType[] = [];
  const of = (schema: z.ZodType, name: string): string => celTypeOf(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema, name, types);
  const diagnosis = of(Diagnosis, 'arbiter.Diagnosis');
  const context = of(Context, 'arbiter.Context');
  const action = of(ActionSchema, 'arbiter.Action');
  // nested types are pushed before their parents: an adapter can register them in this order
  const propose: CelVariable[] = [
    { name: 'diagnosis', type: diagnosis },
    { name: 'context', type: context },
    { name: 'now', type: 'timestamp' },
    // the bundle's data has no schema beyond arbiter.cost; policies index it by computed keys (`actionCost[action.kind]`)
    { name: 'data', type: 'map' },
    { name: 'variables', type: 'map' },
  ];
  cached = { types, propose, judge: [...propose, { name: 'action', type: action }] };
  return cached;
}
