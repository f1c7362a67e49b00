// The CLI's one mapping from errors to exit codes and to the line printed on stderr (issue 9 item 4).
//   0 success · 1 a check failed, or an internal error · 2 bad input or usage · 75 transient (EX_TEMPFAIL):
//   a race with another writer, a busy lock or an unreachable remote; nothing was lost, run it again.
import { ArbiterError, errorKind, type ErrorKind } from '../../engine/errors.ts';

export const EXIT_CODES: Record<ErrorKind, number> = { input: 2, check: 1, transient: 75, internal: 1 };

/** Library fields → the flags a CLI user typed (library errors never name flags; see engine/errors.ts). */
export const FLAG_FOR_FIELD: Readonly<Record<string, string>> = {
  repo: '--repo',
  branch: '--branch',
  signingKey: '--signing-key',
  signingFormat: '--signing-format',
  now: '--now',
  forge: '--forge',
  'forge.url': '--forge-url',
  'forge.repo': '--forge-repo',
  bundle: '--bundle',
  cacheDir: '--cache-dir',
  allowedSigners: '--allowed-signers',
  config: '--config',
  model: '--model',
};

export function exitCodeOf(err: unknown): number {
  return EXIT_CODES[errorKind(err)];
}

/** The one line (or usage block) printed for an error: the field becomes its flag, and the hint follows. */
export function describeError(err: unknown): string {
  if (!(err instanceof ArbiterError)) return err instanceof Error ? err.message : String(err);
  const flag = err.field !== undefined ? FLAG_FOR_FIELD[err.field] : undefined;
  const text = flag ? `${flag}: ${err.detail}` : err.message;
  return err.hint ? `${text} (${err.hint})` : text;
}
