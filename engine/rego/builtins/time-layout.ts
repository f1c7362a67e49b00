// Go's time package as OPA uses it: reference-time layouts ("2006-01-02T15:04:05Z07:00") for parsing and
// formatting, civil-date arithmetic on int64 nanoseconds, and IANA zones through Intl. No JS library speaks Go layouts.

export const NS_PER_SEC = 1_000_000_000n;
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Named layouts OPA accepts in time.format. */
export const NAMED_LAYOUTS: Record<string, string> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  Kitchen: '3:04PM',
  Stamp: 'Jan _2 15:04:05',
  StampMilli: 'Jan _2 15:04:05.000',
  StampMicro: 'Jan _2 15:04:05.000000',
  StampNano: 'Jan _2 15:04:05.000000000',
  DateTime: '2006-01-02 15:04:05',
  DateOnly: '2006-01-02',
  TimeOnly: '15:04:05',
};

// ── civil calendar (proleptic Gregorian, days since 1970-01-01) ──────────────────────────────

export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): { year: number; month: number; day: number } {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const floorDiv = (a: bigint, b: bigint): bigint => (a >= 0n ? a / b : -((-a + b - 1n) / b));

/** Wall-clock fields of an instant at a fixed UTC offset. */
export interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  weekday: number;
  yday: number;
}

export function civilOf(ns: bigint, offsetSec: number): Civil {
  const secs = floorDiv(ns, NS_PER_SEC);
  const nanos = Number(ns - secs * NS_PER_SEC);
  const local = secs + BigInt(offsetSec);
  const days = Number(floorDiv(local, 86400n));
  const sod = Number(local - BigInt(days) * 86400n);
  const { year, month, day } = civilFromDays(days);
  return {
    year,
    month,
    day,
    hour: Math.floor(sod / 3600),
    minute: Math.floor((sod % 3600) / 60),
    second: sod % 60,
    nanos,
    weekday: (((days + 4) % 7) + 7) % 7,
    yday: days - daysFromCivil(year, 1, 1) + 1,
  };
}

/** Nanoseconds of a wall-clock time at a UTC offset; fields may overflow (Go's time.Date normalisation). */
export function instantOf(year: number, month: number, day: number, hour: number, minute: number, second: number, nanos: number, offsetSec: number): bigint {
  const y = year + Math.floor((month - 1) / 12);
  const m = (((month - 1) % 12) + 12) % 12 + 1;
  const days = BigInt(daysFromCivil(y, m, 1) + day - 1);
  const secs = days * 86400n + BigInt(hour * 3600 + minute * 60 + second - offsetSec);
  return secs * NS_PER_SEC + BigInt(nanos);
}

export const daysIn = (year: number, month: number): number => civilFromDays(daysFromCivil(year, month + 1, 1) - 1).day;

// ── zones ─────────────────────────────────────────────────────────────────────────────────────

export interface Zone {
  name: string;
  /** Offset (seconds east of UTC) and abbreviation at an instant. */
  at(ns: bigint): { offset: number; abbrev: string };
}

export const UTC: Zone = { name: 'UTC', at: () => ({ offset: 0, abbrev: 'UTC' }) };

export function fixedZone(offset: number, abbrev: string): Zone {
  return { name: abbrev, at: () => ({ offset, abbrev }) };
}

const ZONES = new Map<string, Zone>();

/** An IANA zone via Intl; throws `unknown time zone X` like Go's LoadLocation. */
export function loadZone(name: string): Zone {
  if (name === '' || name === 'UTC') return UTC;
  // policies have no host clock or locale: "Local" is UTC
  if (name === 'Local') return UTC;
  const hit = ZONES.get(name);
  if (hit) return hit;
  let offsetFmt: Intl.DateTimeFormat;
  let abbrevFmt: Intl.DateTimeFormat;
  try {
    offsetFmt = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
    abbrevFmt = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'short' });
  } catch {
    throw new Error(`unknown time zone ${name}`);
  }
  const zone: Zone = {
    name,
    at(ns) {
      const date = new Date(Number(floorDiv(ns, 1_000_000n)));
      const off = offsetFmt.formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
      const m = /GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?/.exec(off);
      const offset = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0)) : 0;
      let abbrev = abbrevFmt.formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? 'UTC';
      // zones without a letter abbreviation print as "+0530" in Go
      if (/^(GMT|UTC)[+-]/.test(abbrev)) abbrev = formatOffset(offset, false, false, false);
      return { offset, abbrev };
    },
  };
  ZONES.set(name, zone);
  return zone;
}

function formatOffset(offset: number, colon: boolean, seconds: boolean, hoursOnly: boolean): string {
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const hh = String(Math.floor(a / 3600)).padStart(2, '0');
  const mm = String(Math.floor((a % 3600) / 60)).padStart(2, '0');
  const ss = String(a % 60).padStart(2, '0');
  if (hoursOnly) return sign + hh;
  const sep = colon ? ':' : '';
  return sign + hh + sep + mm + (seconds ? sep + ss : '');
}

// ── layout chunks (Go's nextStdChunk) ────────────────────────────────────────────────────────

type Std =
  | 'January' | 'Jan' | '1' | '01' | 'Monday' | 'Mon' | '2' | '_2' | '02' | '__2' | '002' | '15' | '3' | '03' | '4' | '04'
  | '5' | '05' | '2006' | '06' | 'PM' | 'pm' | 'MST'
  | 'Z070000' | 'Z07:00:00' | 'Z0700' | 'Z07:00' | 'Z07' | '-070000' | '-07:00:00' | '-0700' | '-07:00' | '-07'
  | { frac: '0' | '9'; digits: number; sep: string };

interface Chunk {
  literal: string;
  std?: Std;
}

const PREFIXED: Array<[string, Std]> = [
  ['January', 'January'], ['Jan', 'Jan'], ['Monday', 'Monday'], ['Mon', 'Mon'], ['MST', 'MST'],
  ['2006', '2006'], ['002', '002'], ['01', '01'], ['02', '02'], ['03', '03'], ['04', '04'], ['05', '05'], ['06', '06'],
  ['__2', '__2'], ['_2', '_2'], ['15', '15'], ['1', '1'], ['2', '2'], ['3', '3'], ['4', '4'], ['5', '5'],
  ['PM', 'PM'], ['pm', 'pm'],
  ['Z070000', 'Z070000'], ['Z07:00:00', 'Z07:00:00'], ['Z0700', 'Z0700'], ['Z07:00', 'Z07:00'], ['Z07', 'Z07'],
  ['-070000', '-070000'], ['-07:00:00', '-07:00:00'], ['-0700', '-0700'], ['-07:00', '-07:00'], ['-07', '-07'],
];

const isDigitAt = (s: string, i: number): boolean => i < s.length && s[i]! >= '0' && s[i]! <= '9';

export function layoutChunks(layout: string): Chunk[] {
  const out: Chunk[] = [];
  let lit = '';
  let i = 0;
  outer: while (i < layout.length) {
    const c = layout[i] as string;
    if ((c === '.' || c === ',') && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
      const d = layout[i + 1] as '0' | '9';
      let j = i + 1;
      while (layout[j] === d) j++;
      if (!isDigitAt(layout, j)) {
        out.push({ literal: lit, std: { frac: d, digits: j - i - 1, sep: c } });
        lit = '';
        i = j;
        continue;
      }
    }
    for (const [text, std] of PREFIXED) {
      if (!layout.startsWith(text, i)) continue;
      // "Jan"/"Mon" only when not followed by a lower-case letter (Go: "January" vs "Janet")
      if ((text === 'Jan' || text === 'Mon') && /[a-z]/.test(layout[i + 3] ?? '')) continue;
      if (text === '_2' && layout.startsWith('_2006', i)) {
        lit += '_';
        i++;
        continue outer;
      }
      out.push({ literal: lit, std });
      lit = '';
      i += text.length;
      continue outer;
    }
    lit += c;
    i++;
  }
  out.push({ literal: lit });
  return out;
}

// ── format ───────────────────────────────────────────────────────────────────────────────────

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

export function formatTime(ns: bigint, zone: Zone, layout: string): string {
  const { offset, abbrev } = zone.at(ns);
  const t = civilOf(ns, offset);
  let out = '';
  for (const { literal, std } of layoutChunks(layout)) {
    out += literal;
    if (std === undefined) continue;
    if (typeof std === 'object') {
      const digits = pad(t.nanos, 9).slice(0, std.digits);
      if (std.frac === '0') out += std.sep + digits;
      else {
        const trimmed = digits.replace(/0+$/, '');
        if (trimmed) out += std.sep + trimmed;
      }
      continue;
    }
    const h12 = t.hour % 12 === 0 ? 12 : t.hour % 12;
    switch (std) {
      case 'January': out += MONTHS[t.month - 1]; break;
      case 'Jan': out += (MONTHS[t.month - 1] as string).slice(0, 3); break;
      case '1': out += t.month; break;
      case '01': out += pad(t.month, 2); break;
      case 'Monday': out += WEEKDAYS[t.weekday]; break;
      case 'Mon': out += (WEEKDAYS[t.weekday] as string).slice(0, 3); break;
      case '2': out += t.day; break;
      case '_2': out += String(t.day).padStart(2, ' '); break;
      case '02': out += pad(t.day, 2); break;
      case '__2': out += String(t.yday).padStart(3, ' '); break;
      case '002': out += pad(t.yday, 3); break;
      case '15': out += pad(t.hour, 2); break;
      case '3': out += h12; break;
      case '03': out += pad(h12, 2); break;
      case '4': out += t.minute; break;
      case '04': out += pad(t.minute, 2); break;
      case '5': out += t.second; break;
      case '05': out += pad(t.second, 2); break;
      case '2006': out += t.year < 0 ? `-${pad(-t.year, 4)}` : pad(t.year, 4); break;
      case '06': out += pad(((t.year % 100) + 100) % 100, 2); break;
      case 'PM': out += t.hour >= 12 ? 'PM' : 'AM'; break;
      case 'pm': out += t.hour >= 12 ? 'pm' : 'am'; break;
      case 'MST': out += abbrev; break;
      default: {
        const z = std.startsWith('Z');
        if (z && offset === 0) {
          out += 'Z';
          break;
        }
        const body = std.slice(1);
        out += formatOffset(offset, body.includes(':'), body.length === 9 || body.length === 6, body === '07');
      }
    }
  }
  return out;
}

// ── parse ────────────────────────────────────────────────────────────────────────────────────

export class TimeParseError extends Error {}

const quote = (s: string): string => JSON.stringify(s);

/** Go's time.Parse(layout, value) → nanoseconds since the epoch (bigint, unbounded; callers check the range). */
export function parseTime(layout: string, value: string, defaultZone: Zone = UTC): bigint {
  const original = value;
  let year = 1;
  let month = 1;
  let day = 1;
  let yday = -1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let pm: boolean | undefined;
  let offset: number | undefined;
  const chunks = layoutChunks(layout);
  const fail = (elem: string, rest: string, extra = ''): never => {
    throw new TimeParseError(`parsing time ${quote(original)} as ${quote(layout)}: cannot parse ${quote(rest)} as ${quote(elem)}${extra}`);
  };
  const range = (elem: string): never => {
    throw new TimeParseError(`parsing time ${quote(original)}: ${elem} out of range`);
  };
  const num = (rest: string, min: number, max: number, elem: string): [number, string] => {
    const m = new RegExp(`^\\d{${min},${max}}`).exec(rest);
    if (!m) return fail(elem, rest);
    return [Number(m[0]), rest.slice(m[0].length)];
  };
  const lookup = (names: string[], rest: string, elem: string): [number, string] => {
    for (let k = 0; k < names.length; k++) {
      const n = names[k] as string;
      if (rest.slice(0, n.length).toLowerCase() === n.toLowerCase()) return [k, rest.slice(n.length)];
    }
    return fail(elem, rest);
  };
  for (let ci = 0; ci < chunks.length; ci++) {
    const { literal, std } = chunks[ci] as Chunk;
    if (!value.startsWith(literal)) fail(literal, value);
    value = value.slice(literal.length);
    if (std === undefined) {
      if (value !== '') throw new TimeParseError(`parsing time ${quote(original)}: extra text: ${quote(value)}`);
      break;
    }
    const rest = value;
    if (typeof std === 'object') {
      if (value[0] !== '.' && value[0] !== ',') {
        if (std.frac === '9') continue;
        fail(`${std.sep}${std.frac.repeat(std.digits)}`, value);
      }
      const m = /^[.,](\d+)/.exec(value);
      if (!m) {
        if (std.frac === '9') continue;
        return fail(`${std.sep}${'0'.repeat(std.digits)}`, value);
      }
      if (std.frac === '0' && m[1]!.length !== std.digits) fail(`${std.sep}${'0'.repeat(std.digits)}`, value);
      nanos = Number((m[1] as string).slice(0, 9).padEnd(9, '0'));
      value = value.slice(m[0].length);
      continue;
    }
    switch (std) {
      case 'January': [month, value] = lookup(MONTHS, value, std); month++; break;
      case 'Jan': [month, value] = lookup(MONTHS.map((s) => s.slice(0, 3)), value, std); month++; break;
      case 'Monday': [, value] = lookup(WEEKDAYS, value, std); break;
      case 'Mon': [, value] = lookup(WEEKDAYS.map((s) => s.slice(0, 3)), value, std); break;
      case '1': case '01':
        [month, value] = num(value, std === '01' ? 2 : 1, 2, std);
        if (month < 1 || month > 12) range('month');
        break;
      case '2': case '_2': case '02':
        if (std === '_2' && value[0] === ' ') value = value.slice(1);
        [day, value] = num(value, std === '02' ? 2 : 1, 2, std);
        break;
      case '__2': case '002':
        value = value.replace(/^ {1,2}/, '');
        [yday, value] = num(value, std === '002' ? 3 : 1, 3, std);
        break;
      case '15': [hour, value] = num(value, 1, 2, std); if (hour > 23) range('hour'); break;
      case '3': case '03': [hour, value] = num(value, std === '03' ? 2 : 1, 2, std); if (hour > 12) range('hour'); break;
      case '4': case '04': [minute, value] = num(value, std === '04' ? 2 : 1, 2, std); if (minute > 59) range('minute'); break;
      case '5': case '05': {
        [second, value] = num(value, std === '05' ? 2 : 1, 2, std);
        if (second > 59) range('second');
        // a fractional second in the value is accepted even without one in the layout
        const next = chunks[ci + 1];
        const nextIsFrac = next !== undefined && next.literal === '' && typeof next.std === 'object';
        const m = /^[.,](\d+)/.exec(value);
        if (m && !nextIsFrac) {
          nanos = Number((m[1] as string).slice(0, 9).padEnd(9, '0'));
          value = value.slice(m[0].length);
        }
        break;
      }
      case '2006': {
        const m = /^\d{4}/.exec(value);
        if (!m) fail(std, value);
        year = Number((m as RegExpExecArray)[0]);
        value = value.slice(4);
        break;
      }
      case '06': { let y: number; [y, value] = num(value, 2, 2, std); year = y >= 69 ? 1900 + y : 2000 + y; break; }
      case 'PM': case 'pm': {
        const ap = value.slice(0, 2).toUpperCase();
        if (ap !== 'AM' && ap !== 'PM') fail(std, value);
        pm = ap === 'PM';
        value = value.slice(2);
        break;
      }
      case 'MST': {
        const m = /^(UTC|GMT|[A-Z]{3,5})([+-]\d{1,2})?/.exec(value);
        if (!m) fail(std, value);
        const ab = (m as RegExpExecArray)[0];
        offset = ab.startsWith('GMT') && ab.length > 3 ? Number(ab.slice(3)) * 3600 : 0;
        value = value.slice(ab.length);
        break;
      }
      default: {
        if (std.startsWith('Z') && value[0] === 'Z') {
          offset = 0;
          value = value.slice(1);
          break;
        }
        const body = std.slice(1);
        const shape = body.replace(/\d/g, '9');
        const pattern = new RegExp(`^[+-]${shape.replace(/9/g, '\\d')}`);
        const m = pattern.exec(value);
        if (!m) fail(std, rest);
        const digits = (m as RegExpExecArray)[0].slice(1).replace(/:/g, '');
        const hh = Number(digits.slice(0, 2));
        const mm = Number(digits.slice(2, 4) || 0);
        const ss = Number(digits.slice(4, 6) || 0);
        if (hh > 24 || mm > 59 || ss > 59) range('time zone offset');
        offset = ((m as RegExpExecArray)[0][0] === '-' ? -1 : 1) * (hh * 3600 + mm * 60 + ss);
        value = value.slice((m as RegExpExecArray)[0].length);
      }
    }
  }
  if (pm !== undefined) {
    if (pm && hour < 12) hour += 12;
    else if (!pm && hour === 12) hour = 0;
  }
  if (yday >= 0) {
    const start = daysFromCivil(year, 1, 1);
    const c = civilFromDays(start + yday - 1);
    if (yday < 1 || c.year !== year) range('day-of-year');
    month = c.month;
    day = c.day;
  }
  if (day < 1 || day > daysIn(year, month)) range('day');
  if (offset !== undefined) return instantOf(year, month, day, hour, minute, second, nanos, offset);
  // no zone in the value: wall time in the default zone (two passes settle DST transitions)
  const guess = instantOf(year, month, day, hour, minute, second, nanos, 0);
  const off1 = defaultZone.at(guess).offset;
  const off2 = defaultZone.at(guess - BigInt(off1) * NS_PER_SEC).offset;
  return instantOf(year, month, day, hour, minute, second, nanos, off2);
}

// ── durations (Go's time.ParseDuration) ──────────────────────────────────────────────────────

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n,
  'μs': 1000n,
  ms: 1_000_000n,
  s: NS_PER_SEC,
  m: 60n * NS_PER_SEC,
  h: 3600n * NS_PER_SEC,
};

export function parseDuration(s: string): bigint {
  const invalid = (): never => {
    throw new TimeParseError(`time: invalid duration ${quote(s)}`);
  };
  let rest = s;
  let neg = false;
  if (rest[0] === '-' || rest[0] === '+') {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') invalid();
  let total = 0n;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest) as RegExpExecArray;
    if (m[0] === '' || m[0] === '.' || (m[1] === '' && (m[2] ?? '') === '')) invalid();
    rest = rest.slice(m[0].length);
    const u = /^[^\d.]+/.exec(rest);
    if (!u) throw new TimeParseError(`time: missing unit in duration ${quote(s)}`);
    const unit = UNIT_NS[u[0]];
    if (unit === undefined) throw new TimeParseError(`time: unknown unit ${quote(u[0])} in duration ${quote(s)}`);
    rest = rest.slice(u[0].length);
    const frac = m[2] ?? '';
    total += BigInt(m[1] || '0') * unit + (frac ? (BigInt(frac) * unit) / 10n ** BigInt(frac.length) : 0n);
    if (total > INT64_MAX + (neg ? 1n : 0n)) invalid();
  }
  return neg ? -total : total;
}
