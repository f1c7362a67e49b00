// localTime keeps its answers per zone and second: a kept answer must equal a fresh computation, for any instant
// (historic offsets such as Monrovia's -0:44:30 included) and repeated calls must not share mutable results.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localTime } from '../../engine/context.ts';

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Africa/Monrovia', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Europe/Amsterdam'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function fresh(instant: Date, timeZone: string): { day: string; minutes: number } {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(instant).map((p) => [p.type, p.value]));
  return { day: WEEKDAYS.find((d) => d === String(parts.weekday).slice(0, 3).toLowerCase())!, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

describe('localTime', () => {
  it('a kept answer equals a fresh computation for every instant of the same second', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2_500_000_000, max: 4_000_000_000 }), fc.integer({ min: 0, max: 999 }), fc.constantFrom(...ZONES), (seconds, ms, zone) => {
        const first = localTime(new Date(seconds * 1000), zone);
        const again = localTime(new Date(seconds * 1000 + ms), zone);
        expect(first).toEqual(fresh(new Date(seconds * 1000), zone));
        expect(again).toEqual(fresh(new Date(seconds * 1000 + ms), zone));
      }),
      { numRuns: 300 },
    );
  });

  it('returns a new object each time, so a caller changing it cannot change the next answer', () => {
    const a = localTime(new Date('2026-11-21T02:13:00Z'), 'Europe/Berlin');
    a.minutes = -1;
    expect(localTime(new Date('2026-11-21T02:13:00Z'), 'Europe/Berlin')).toEqual({ day: 'sat', minutes: 3 * 60 + 13 });
  });
});
