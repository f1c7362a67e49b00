// Named errors with a code, as isomorphic-git does: one class per failure, a message that says what to do.

/** Bad input or usage: the CLI prints the message (no stack) and exits 2. */
export class InputError extends Error {
  readonly code: string = 'InputError';
  readonly exitCode = 2;
  constructor(
    message: string,
    /** The field path or file the message is about, e.g. `hypotheses[0].confidence`. */
    readonly where?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'InputError';
  }
}

/** A bundle that cannot load: bad YAML, a CEL type error, a Rego compile error. Names file, rule, column. */
export class BundleError extends InputError {
  override readonly code = 'BundleError';
  constructor(message: string, where?: string) {
    super(message, where);
    this.name = 'BundleError';
  }
}

/** A check failed (test, scenario, audit): exit 1. */
export class CheckFailedError extends Error {
  readonly code = 'CheckFailed';
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailedError';
  }
}

export function exitCodeOf(err: unknown): number {
  if (err && typeof err === 'object' && 'exitCode' in err && typeof (err as { exitCode: unknown }).exitCode === 'number') {
    return (err as { exitCode: number }).exitCode;
  }
  return 2;
}
