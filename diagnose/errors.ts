// The diagnosis tier's failures, each with the exit code the CLI maps it to (engine/errors.ts conventions).
import { InputError } from '../engine/errors.ts';

/** The model ran out of turns, tokens or time without submitting: exit 1, nothing was decided. */
export class InvestigationBudgetError extends Error {
  readonly code = 'InvestigationBudget';
  readonly exitCode = 1;
  constructor(message: string) {
    super(`${message}; nothing was decided`);
    this.name = 'InvestigationBudgetError';
  }
}

/** The model's submission stayed invalid after the allowed corrections: exit 2, naming the field. */
export class SubmissionRefusedError extends InputError {
  override readonly code = 'SubmissionRefused';
  constructor(message: string, where: string) {
    super(message, where);
    this.name = 'SubmissionRefusedError';
  }
}

/** The Messages API could not be used (overloaded, rate limited, unreachable) after the SDK's retries: exit 75. */
export class ModelUnavailableError extends Error {
  readonly code = 'ModelUnavailable';
  /** EX_TEMPFAIL: a transient failure, try again later. */
  readonly exitCode = 75;
  constructor(message: string) {
    super(message);
    this.name = 'ModelUnavailableError';
  }
}

/** The Messages API refused the request itself (key, model name, request shape): exit 2. */
export class ModelRequestError extends InputError {
  override readonly code = 'ModelRequest';
  constructor(message: string, where = 'Anthropic API') {
    super(message, where);
    this.name = 'ModelRequestError';
  }
}
