// The server's one mapping from errors to HTTP responses (issue 9 item 4; the CLI's is bin/cli/exit.ts).
//   HttpError (a route's own answer) → its status · input → 400 (415 for a media type) · transient (a race, a busy
//   lock, an unreachable remote) and a repository the server cannot use → 503 with Retry-After · anything else → 500.
// The body is `{error, field?, hint?}`: never a stack trace.
import { ArbiterError, InputError, TransientError } from '../engine/errors.ts';
import { UnsupportedMediaTypeError, fieldOf } from './intake.ts';

/** An answer a route gives on purpose (404, 405, 401, 413, 503 while shutting down). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface ErrorResponse {
  status: number;
  body: { error: string; field?: string; hint?: string };
  headers: Record<string, string>;
}

/** Fields that name the server's own repository settings: failing there is not the request's fault. */
const REPOSITORY_FIELDS = new Set(['repo', 'branch']);

export function errorResponse(err: unknown): ErrorResponse {
  if (err instanceof HttpError) return { status: err.status, body: { error: err.message, ...(err.field ? { field: err.field } : {}) }, headers: err.headers };
  const hint = err instanceof ArbiterError && err.hint ? { hint: err.hint } : {};
  if (err instanceof TransientError) {
    return { status: 503, body: { error: err.message, ...hint }, headers: { 'retry-after': String(err.retryAfterSeconds) } };
  }
  if (err instanceof InputError && err.field !== undefined && REPOSITORY_FIELDS.has(err.field)) {
    return { status: 503, body: { error: err.message, ...hint }, headers: { 'retry-after': '5' } };
  }
  if (err instanceof InputError) {
    const { error, field } = fieldOf(err);
    return { status: err instanceof UnsupportedMediaTypeError ? 415 : 400, body: { error, field, ...hint }, headers: {} };
  }
  return { status: 500, body: { error: err instanceof Error ? err.message : String(err), ...hint }, headers: {} };
}
