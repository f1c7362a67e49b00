// The JSON Schema of the `input` document Rego policies see (DESIGN §4.1: diagnosis, context, and in the judge phase
// the candidate action), generated from the same zod schemas that validate the input, never written by hand. The
// Rego backend and tester compile with it, so `input.diagnosis.hypotheses[_].casue` is a rego_type_error at load.
import { z } from 'zod';
import { ActionKind, ActionParams, Context, Diagnosis, type Action } from '../types.ts';

/** `input.action` as a zod schema: the shape of types.ts `Action` (checked both ways below). */
const PolicyAction = z.object({
  kind: ActionKind,
  target: z.object({ service: z.string(), namespace: z.string() }),
  params: ActionParams,
});

// the zod shape and the TypeScript Action interface may not drift apart
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const actionMatches: Same<z.infer<typeof PolicyAction>, Action> = true;
void actionMatches;

const PolicyInputSchema = z.object({ diagnosis: Diagnosis, context: Context, action: PolicyAction.optional() });

/** JSON Schema of the policy input (computed once per process; the zod schemas are constants). */
export const POLICY_INPUT_JSON_SCHEMA: Readonly<Record<string, unknown>> = z.toJSONSchema(PolicyInputSchema, { io: 'input' }) as Record<string, unknown>;
