// The server's intake formats (DESIGN §2): a Diagnosis as JSON or YAML, a CloudEvent (structured or binary mode)
// whose data is a Diagnosis, or an Alertmanager webhook. Everything here is pure: text and headers in, Diagnosis out.
import type { IncomingHttpHeaders } from 'node:http';
import { diagnosisFromAlertmanager, type NothingFiring } from '../engine/alertmanager.ts';
import { InputError } from '../engine/errors.ts';
import { parseDiagnosis, parseDocument, validateDiagnosis } from '../engine/ingest.ts';
import type { Diagnosis } from '../engine/types.ts';

/** Refused because of its media type (415), not its content. */
export class UnsupportedMediaTypeError extends InputError {
  override readonly code = 'UnsupportedMediaType';
}

/** Errors name fields from the request: `body`, `data.…` for a CloudEvent's data, `ce-id` for a header. */
export const BODY = 'body';

function mediaType(headers: IncomingHttpHeaders): string {
  return (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

const JSON_TYPES = new Set(['application/json', 'text/json']);
const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']);

function ensureJson(text: string, field: string): void {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') throw new InputError('not valid JSON: expected an object', field);
}

/** `POST /v1/diagnoses`: JSON or YAML by Content-Type (a structured CloudEvent in the body is unwrapped too). */
export function diagnosisFromBody(text: string, headers: IncomingHttpHeaders): Diagnosis {
  const type = mediaType(headers);
  if (JSON_TYPES.has(type)) ensureJson(text, BODY);
  else if (!YAML_TYPES.has(type)) throw new UnsupportedMediaTypeError(`unsupported media type ${JSON.stringify(type || 'none')}: send application/json or application/yaml`, 'content-type');
  return parseDiagnosis(text, BODY);
}

const REQUIRED_ATTRIBUTES = ['specversion', 'id', 'source', 'type'] as const;

/** `POST /v1/cloudevents`: structured mode (`application/cloudevents+json`) or binary mode (`ce-*` headers). */
export function diagnosisFromCloudEvent(text: string, headers: IncomingHttpHeaders): Diagnosis {
  const type = mediaType(headers);
  if (type === 'application/cloudevents-batch+json') throw new UnsupportedMediaTypeError('batched CloudEvents are not accepted: send one event per request', 'content-type');
  if (type === 'application/cloudevents+json') {
    ensureJson(text, BODY);
    const event = parseDocument(text, BODY) as Record<string, unknown>;
    if (!event || typeof event !== 'object' || Array.isArray(event)) throw new InputError('must be a CloudEvent (a JSON object)', BODY);
    for (const attribute of REQUIRED_ATTRIBUTES) {
      if (typeof event[attribute] !== 'string' || event[attribute] === '') throw new InputError('is a required CloudEvents attribute', `${BODY}: ${attribute}`);
    }
    return parseDiagnosis(text, BODY);
  }
  for (const attribute of REQUIRED_ATTRIBUTES) {
    const value = headers[`ce-${attribute}`];
    if (typeof value !== 'string' || value === '') {
      throw new InputError(`is required in binary mode (or send Content-Type: application/cloudevents+json)`, `ce-${attribute}`);
    }
  }
  if (headers['ce-specversion'] !== '1.0') throw new InputError(`unsupported CloudEvents specversion ${JSON.stringify(headers['ce-specversion'])} (expected "1.0")`, 'ce-specversion');
  if (JSON_TYPES.has(type)) ensureJson(text, BODY);
  else if (!YAML_TYPES.has(type)) throw new UnsupportedMediaTypeError(`unsupported data content type ${JSON.stringify(type || 'none')}: send application/json or application/yaml`, 'content-type');
  return validateDiagnosis(parseDocument(text, BODY), BODY, 'data');
}

/** The parsed body of `POST /v1/alertmanager` (JSON only), before any mapping. */
export function alertmanagerPayload(text: string, headers: IncomingHttpHeaders): unknown {
  const type = mediaType(headers);
  if (type && !JSON_TYPES.has(type)) throw new UnsupportedMediaTypeError(`unsupported media type ${JSON.stringify(type)}: Alertmanager sends application/json`, 'content-type');
  ensureJson(text, BODY);
  return parseDocument(text, BODY);
}

/** `POST /v1/alertmanager`: an Alertmanager webhook (payload version 4), mapped by engine/alertmanager.ts. */
export function diagnosisFromAlertmanagerBody(text: string, headers: IncomingHttpHeaders): Diagnosis | NothingFiring {
  return diagnosisFromAlertmanager(alertmanagerPayload(text, headers), BODY);
}

/** The field an intake error is about, for `{error, field}`: the part of `where` after the source name. */
export function fieldOf(err: InputError): { error: string; field: string } {
  const where = err.where ?? BODY;
  const field = where.startsWith(`${BODY}: `) ? where.slice(BODY.length + 2) : where;
  const error = err.where && err.message.startsWith(`${err.where}: `) ? err.message.slice(err.where.length + 2) : err.message;
  return { error, field };
}
