// Builtins: time.parse_ns, time.parse_rfc3339_ns, time.parse_duration_ns, time.date, time.clock, time.weekday, time.add_date, time.diff, time.format
// Times are int64 nanoseconds as in Go; zones come from Intl (IANA), never from the host clock.
import type { Value } from '../value.ts';
import { isNumber, normalizeNumber } from '../value.ts';
import { BuiltinError, OperandTypeError, T, expectNumber, expectString, register } from './registry.ts';
import { expectInt } from './strings-operands.ts';
import {
  INT64_MAX,
  INT64_MIN,
  NAMED_LAYOUTS,
  TimeParseError,
  UTC,
  WEEKDAYS,
  civilOf,
  daysIn,
  formatTime,
  instantOf,
  loadZone,
  parseDuration,
  parseTime,
} from './time-layout.ts';
import type { Zone } from './time-layout.ts';

const S = T.string;
const N = T.number;
const TIME_ARG = T.union(N, T.array(T.any));

const inRange = (ns: bigint): boolean => ns >= INT64_MIN && ns <= INT64_MAX;

function checked(name: string, ns: bigint): Value {
  if (!inRange(ns)) throw new BuiltinError(name, 'time outside of valid range');
  return normalizeNumber(ns);
}

function parseOr(name: string, f: () => bigint): Value {
  try {
    return checked(name, f());
  } catch (e) {
    if (e instanceof TimeParseError) throw new BuiltinError(name, e.message);
    throw e;
  }
}

register({
  name: 'time.parse_ns',
  sig: { args: [S, S], result: N },
  fn: ([l, v]) => {
    const layout = expectString('time.parse_ns', 1, l as Value);
    const value = expectString('time.parse_ns', 2, v as Value);
    return parseOr('time.parse_ns', () => parseTime(NAMED_LAYOUTS[layout] ?? layout, value));
  },
});

register({
  name: 'time.parse_rfc3339_ns',
  sig: { args: [S], result: N },
  fn: ([v]) => parseOr('time.parse_rfc3339_ns', () => parseTime(NAMED_LAYOUTS.RFC3339 as string, expectString('time.parse_rfc3339_ns', 1, v as Value))),
});

register({
  name: 'time.parse_duration_ns',
  sig: { args: [S], result: N },
  fn: ([v]) => parseOr('time.parse_duration_ns', () => parseDuration(expectString('time.parse_duration_ns', 1, v as Value))),
});

interface ZonedTime {
  ns: bigint;
  zone: Zone;
  layout: string;
}

const TIME_OPERAND = 'either number (ns) or [number (ns), string (tz)]';

/** OPA's tzTime: `ns`, `[ns, tz]` or `[ns, tz, layout]`. */
function zonedTime(name: string, v: Value): ZonedTime {
  let nsVal: Value;
  let zone = UTC;
  let layout = NAMED_LAYOUTS.RFC3339Nano as string;
  if (Array.isArray(v)) {
    if (v.length === 0) throw new OperandTypeError(name, 1, TIME_OPERAND, v);
    nsVal = v[0] as Value;
    if (v.length > 1) {
      const tz = expectString(name, 1, v[1] as Value);
      try {
        zone = loadZone(tz);
      } catch (e) {
        throw new BuiltinError(name, (e as Error).message);
      }
    }
    if (v.length > 2) {
      const l = expectString(name, 1, v[2] as Value);
      layout = NAMED_LAYOUTS[l] ?? l;
    }
  } else if (isNumber(v)) {
    nsVal = v;
  } else throw new OperandTypeError(name, 1, TIME_OPERAND, v);
  const n = expectNumber(name, 1, nsVal);
  const ns = typeof n === 'bigint' ? n : Number.isFinite(n) && Math.abs(n) < 2 ** 64 ? BigInt(Math.trunc(n)) : INT64_MAX + 1n;
  if (!inRange(ns)) throw new BuiltinError(name, 'timestamp too big');
  return { ns, zone, layout };
}

const civilAt = (t: ZonedTime) => civilOf(t.ns, t.zone.at(t.ns).offset);

register({
  name: 'time.date',
  sig: { args: [TIME_ARG], result: T.array(N) },
  fn: ([x]) => {
    const c = civilAt(zonedTime('time.date', x as Value));
    return [c.year, c.month, c.day];
  },
});

register({
  name: 'time.clock',
  sig: { args: [TIME_ARG], result: T.array(N) },
  fn: ([x]) => {
    const c = civilAt(zonedTime('time.clock', x as Value));
    return [c.hour, c.minute, c.second];
  },
});

register({
  name: 'time.weekday',
  sig: { args: [TIME_ARG], result: S },
  fn: ([x]) => WEEKDAYS[civilAt(zonedTime('time.weekday', x as Value)).weekday] as string,
});

register({
  name: 'time.format',
  sig: { args: [TIME_ARG], result: S },
  fn: ([x]) => {
    const t = zonedTime('time.format', x as Value);
    return formatTime(t.ns, t.zone, t.layout);
  },
});

register({
  name: 'time.add_date',
  sig: { args: [N, N, N, N], result: N },
  fn: ([x, y, m, d]) => {
    const name = 'time.add_date';
    const n = expectNumber(name, 1, x as Value);
    const ns = typeof n === 'bigint' ? n : BigInt(Math.trunc(n));
    const c = civilOf(ns, 0);
    const out = instantOf(
      c.year + expectInt(name, 2, y as Value),
      c.month + expectInt(name, 3, m as Value),
      c.day + expectInt(name, 4, d as Value),
      c.hour,
      c.minute,
      c.second,
      c.nanos,
      0,
    );
    return checked(name, out);
  },
});

register({
  name: 'time.diff',
  sig: { args: [TIME_ARG, TIME_ARG], result: T.array(N) },
  fn: ([a, b]) => {
    const t1 = zonedTime('time.diff', a as Value);
    const t2 = zonedTime('time.diff', b as Value);
    // both in the first operand's zone, earlier first (icza/gox, as OPA does)
    const [lo, hi] = t1.ns <= t2.ns ? [t1.ns, t2.ns] : [t2.ns, t1.ns];
    const c1 = civilOf(lo, t1.zone.at(lo).offset);
    const c2 = civilOf(hi, t1.zone.at(hi).offset);
    let year = c2.year - c1.year;
    let month = c2.month - c1.month;
    let day = c2.day - c1.day;
    let hour = c2.hour - c1.hour;
    let min = c2.minute - c1.minute;
    let sec = c2.second - c1.second;
    if (sec < 0) {
      sec += 60;
      min--;
    }
    if (min < 0) {
      min += 60;
      hour--;
    }
    if (hour < 0) {
      hour += 24;
      day--;
    }
    if (day < 0) {
      day += daysIn(c1.year, c1.month);
      month--;
    }
    if (month < 0) {
      month += 12;
      year--;
    }
    return [year, month, day, hour, min, sec];
  },
});
