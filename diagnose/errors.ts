// The diagnosis tier's failures in arbiter's one error hierarchy (engine/errors.ts); the edges map their kind to exit
// codes (bin/cli/exit.ts) and HTTP statuses.
import { ArbiterError, InputError, TransientError, type ErrorKind } from '../engine/errors.ts';

/** The model ran out of turns, tokens or time without submitting: exit 1, nothing was decided. */
export class InvestigationBudgetError extends ArbiterError {
  readonly kind: ErrorKind = 'check';
  readonly exitCode = 1;
  constructor(message: string) {
    super(`${message}; nothing was decided`);
  }
}

/** The model's submission stayed invalid after the allowed corrections: exit 2, naming the field. */
export class SubmissionRefusedError extends InputError {
  readonly exitCode = 2;
}

/** The Messages API could not be used (overloaded, rate limited, unreachable) after the SDK's retries: exit 75. */
export class ModelUnavailableError extends TransientError {
  /** EX_TEMPFAIL: a transient failure, try again later. */
  readonly exitCode = 75;
  constructor(message: string) {
    super(message, { retryAfterSeconds: 30 });
  }
}

/** The Messages API refused the request itself (key, model name, request shape): exit 2. */
export class ModelRequestError extends InputError {
  constructor(message: string, where = 'Anthropic API') {
    super(message, where);
  }
}
