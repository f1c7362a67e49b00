// JSON Schemas of the input documents, generated from the zod schemas in types.ts (never kept by hand), for the
// producers of diagnoses: an AIOps pipeline can validate before sending, and an LLM can be given the schema as its
// structured-output format. Refinements zod cannot express (e.g. "no '..' in names") are checked by arbiter on intake.
import { z } from 'zod';
import { Context, Diagnosis } from './types.ts';

export const DOCUMENT_SCHEMAS = { diagnosis: Diagnosis, context: Context } as const;
export type SchemaName = keyof typeof DOCUMENT_SCHEMAS;

export function jsonSchemaOf(name: SchemaName): Record<string, unknown> {
  const schema = z.toJSONSchema(DOCUMENT_SCHEMAS[name], { io: 'input' }) as Record<string, unknown>;
  return { ...schema, $id: `https://arbiter.dev/schemas/v1/${name}.json`, title: name === 'diagnosis' ? 'arbiter Diagnosis' : 'arbiter Context' };
}
