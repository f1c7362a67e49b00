// What the model submits is untrusted input: the engine's Diagnosis validation, then the rules of this tier — the
// identity arbiter fixed stays fixed, evidence stays short plain text, the investigation record is arbiter's to write.
import { InputError } from '../engine/errors.ts';
import { MAX_DOCUMENT_BYTES, validateDiagnosis } from '../engine/ingest.ts';
import { jsonSchemaOf } from '../engine/schemas.ts';
import type { Diagnosis } from '../engine/types.ts';
import type { Seed } from './seed.ts';

export const SUBMIT_TOOL = 'submit_diagnosis';
const SOURCE = SUBMIT_TOOL;
export const MAX_EVIDENCE_CHARS = 500;
export const MAX_EVIDENCE_ITEMS = 10;
// control characters (terminal escapes, NUL), bidirectional overrides and zero-width characters hide what a reviewer reads
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

/** The `input_schema` of submit_diagnosis: the Diagnosis JSON Schema (`arbiter schema diagnosis`) minus `investigation`. */
export function submitToolDefinition(): { name: string; description: string; input_schema: Record<string, unknown> } {
  const schema = jsonSchemaOf('diagnosis');
  const properties = { ...(schema.properties as Record<string, unknown>) };
  delete properties.investigation;
  // $schema and $id identify the document; a tool's input_schema is the schema itself
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return {
    name: SUBMIT_TOOL,
    description:
      'Submit your diagnosis: ranked hypotheses with calibrated confidences and short evidence strings. Copy apiVersion, kind, id, incident, observedAt and target exactly as given. ' +
      'arbiter validates it and its policies decide what, if anything, happens; nothing you submit is carried out directly.',
    input_schema: { ...rest, properties },
  };
}

function fail(field: string, message: string): InputError {
  return new InputError(message, `${SOURCE}: ${field}`);
}

/** A valid submission → the Diagnosis (with `source: llm`); otherwise an InputError naming the field. */
export function checkSubmission(raw: unknown, seed: Seed): Diagnosis {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw fail('(document)', 'must be a Diagnosis object');
  const input = raw as Record<string, unknown>;
  if ('investigation' in input) throw fail('investigation', 'is recorded by arbiter, not by the model: leave it out');
  if (input.source !== undefined && input.source !== 'llm') throw fail('source', `must be "llm" (got ${JSON.stringify(String(input.source).slice(0, 64))})`);
  if (Buffer.byteLength(JSON.stringify(input), 'utf8') > MAX_DOCUMENT_BYTES) throw fail('(document)', `is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  const diagnosis = validateDiagnosis({ ...input, source: 'llm' }, SOURCE);
  for (const field of ['id', 'incident', 'observedAt'] as const) {
    if (diagnosis[field] !== seed[field]) throw fail(field, `must be ${JSON.stringify(seed[field])} as given (got ${JSON.stringify(diagnosis[field])})`);
  }
  for (const field of ['service', 'namespace', 'cluster', 'environment'] as const) {
    if (diagnosis.target[field] !== seed.target[field]) {
      throw fail(`target.${field}`, seed.target[field] === undefined ? 'must be left out: the incident does not name it' : `must be ${JSON.stringify(seed.target[field])}: the incident's target, which the diagnosis cannot change`);
    }
  }
  diagnosis.hypotheses.forEach((h, i) => {
    const evidence = h.evidence ?? [];
    if (evidence.length > MAX_EVIDENCE_ITEMS) throw fail(`hypotheses[${i}].evidence`, `must have at most ${MAX_EVIDENCE_ITEMS} entries`);
    evidence.forEach((e, j) => {
      if (e.length > MAX_EVIDENCE_CHARS) throw fail(`hypotheses[${i}].evidence[${j}]`, `must have at most ${MAX_EVIDENCE_CHARS} characters`);
      if (HIDDEN.test(e)) throw fail(`hypotheses[${i}].evidence[${j}]`, 'must be plain text on one line (no control, bidirectional or zero-width characters)');
    });
  });
  // the signals the incident reported win over the model's numbers of the same name
  if (seed.signals) diagnosis.signals = { ...diagnosis.signals, ...seed.signals };
  return diagnosis;
}
