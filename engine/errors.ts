// One error hierarchy, as isomorphic-git's src/errors: every failure arbiter reports is an ArbiterError with a stable
// `code` (the class name), the input `field` at fault where there is one, and a `hint` that says what to do. The
// `kind` is what the edges map: bin/cli/exit.ts to exit codes, serve/errors.ts to HTTP statuses (one place each).
// Library errors name fields (`repo`, `branch`, `signingKey`), never CLI flags: the CLI adds the flag names.

/**
 * - `input`: the request, a file or the configuration is wrong (exit 2, HTTP 400)
 * - `check`: a check ran and failed: test, scenario, audit (exit 1)
 * - `transient`: a race, a busy lock, the network; the same request may succeed later (exit 75, HTTP 503)
 * - `internal`: a bug or a broken environment (exit 1, HTTP 500)
 */
export type ErrorKind = 'input' | 'check' | 'transient' | 'internal';

export interface ErrorDetails {
  /** The field path, file or option the message is about, e.g. `hypotheses[0].confidence`. */
  field?: string;
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
}

export abstract class ArbiterError extends Error {
  abstract readonly kind: ErrorKind;
  readonly code: string;
  readonly field?: string;
  readonly hint?: string;
  /** The message without the `field: ` prefix (an edge that names the field its own way uses this). */
  readonly detail: string;

  constructor(detail: string, details: ErrorDetails = {}) {
    super(details.field ? `${details.field}: ${detail}` : detail, details.cause === undefined ? undefined : { cause: details.cause });
    this.detail = detail;
    if (details.field !== undefined) this.field = details.field;
    if (details.hint !== undefined) this.hint = details.hint;
    this.code = new.target.name;
    this.name = new.target.name;
  }
}

/** Bad input or usage: the CLI prints the message (no stack) and exits 2; the server answers 400. */
export class InputError extends ArbiterError {
  readonly kind: ErrorKind = 'input';
  constructor(message: string, where?: string, hint?: string) {
    super(message, { ...(where !== undefined ? { field: where } : {}), ...(hint !== undefined ? { hint } : {}) });
  }

  /** The field path or file the message is about (the older name of `field`). */
  get where(): string | undefined {
    return this.field;
  }
}

/** A bundle that cannot load: bad YAML, a CEL type error, a Rego compile error. Names file, rule, column. */
export class BundleError extends InputError {}

/** A check failed (test, scenario, audit): exit 1. */
export class CheckFailedError extends ArbiterError {
  readonly kind: ErrorKind = 'check';
}

/** A race, a busy lock or an unreachable remote: nothing was lost, the same request may succeed later. */
export class TransientError extends ArbiterError {
  readonly kind: ErrorKind = 'transient';
  /** How long a caller should wait before trying again (seconds), when known. */
  readonly retryAfterSeconds: number;
  constructor(detail: string, details: ErrorDetails & { retryAfterSeconds?: number } = {}) {
    super(detail, details);
    this.retryAfterSeconds = details.retryAfterSeconds ?? 5;
  }
}

/** Something arbiter itself did not expect (a bug, a corrupt store): exit 1, HTTP 500. */
export class InternalError extends ArbiterError {
  readonly kind: ErrorKind = 'internal';
}

/** The kind of any thrown value: an ArbiterError says so; anything else is internal. */
export function errorKind(err: unknown): ErrorKind {
  return err instanceof ArbiterError ? err.kind : 'internal';
}

/**
 * A policy evaluation hit a bound (steps, time, depth, output size) — usually a hostile diagnosis against a policy
 * that is fine on ordinary input. Never "no opinion": the decision fails closed (escalates) and names the bound.
 */
export class EvalBudgetError extends Error {
  readonly code = 'EvalBudgetError';
  constructor(
    message: string,
    /** The policy being evaluated, when known. */
    readonly policy?: string,
  ) {
    super(policy ? `policy ${policy}: ${message}` : message);
    this.name = 'EvalBudgetError';
  }
}
