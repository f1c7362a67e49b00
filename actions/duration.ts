// Durations as operators write them (`30m`, `2h`, `1h30m`, `2d`), for `revertAfter` and validation periods.
import { z } from 'zod';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+[smhd])+$/;

export const Duration = z.string().regex(DURATION, 'must be a duration such as 30m, 2h or 1h30m');

const DURATION_MS = /^(\d+(?:ms|s|m|h|d))+$/;

/** Milliseconds of a duration string; undefined when it is not one. `milliseconds` also accepts `ms` (server timeouts). */
export function durationMs(text: string, options: { milliseconds?: boolean } = {}): number | undefined {
  if (!(options.milliseconds ? DURATION_MS : DURATION).test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(n) * (unit === 'ms' ? 1 : UNIT_MS[unit!]!);
  return total;
}

/** `now` + duration as an RFC 3339 UTC timestamp without milliseconds. */
export function addDuration(now: string, ms: number): string {
  return new Date(Date.parse(now) + ms).toISOString().replace(/\.000Z$/, 'Z');
}
