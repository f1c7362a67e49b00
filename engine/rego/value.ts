// Rego values at run time (OPA's ast.Value), shared by the evaluator and every builtin.
//
//   null | boolean | number | bigint | string | Value[] | RSet | RObject
//
// Numbers follow OPA's ast.Number, which is the number's text (json.Number). Three representations, one meaning:
//   number  a safe integer, or a non-integer double whose text is what JS prints for it (`0.5`, `1e-7`)
//   bigint  an integer beyond ±2^53, written as its digits
//   BigNum  any other text OPA keeps as written or computes (`1.0`, `1e2`, `-0`, `120.00000000000000001`)
// Equal numbers are equal whatever their text (`1 == 1.0`); the text is what json.marshal, sprintf and the output
// print. Arithmetic reproduces OPA's math/big in builtins/arithmetic.ts.

export type RNumber = number | bigint | BigNum;
export type Value = null | boolean | RNumber | string | Value[] | RSet | RObject;

export type TypeName = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'set';

export function typeName(v: Value): TypeName {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
  }
  if (Array.isArray(v)) return 'array';
  if (v instanceof RObject) return 'object';
  return v instanceof RSet ? 'set' : 'number';
}

export const isNumber = (v: Value): v is RNumber => typeof v === 'number' || typeof v === 'bigint' || v instanceof BigNum;
export const isString = (v: Value): v is string => typeof v === 'string';
export const isArray = (v: Value): v is Value[] => Array.isArray(v);
export const isSet = (v: Value): v is RSet => v instanceof RSet;
export const isObject = (v: Value): v is RObject => v instanceof RObject;

/** A bigint inside the safe range becomes a number, so each integer has one representation. */
export function normalizeNumber(n: bigint | number): number | bigint {
  if (typeof n === 'bigint' && n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(n);
  return n;
}

/** An exact decimal: value = coef * 10^exp, coef without trailing zeros (0 is coef 0, exp 0). */
export interface ExactDecimal {
  coef: bigint;
  exp: number;
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function decimalOfText(text: string): ExactDecimal {
  const m = DECIMAL_TEXT.exec(text);
  if (!m) return { coef: 0n, exp: 0 };
  const [, sign, int = '', frac = '', e] = m;
  let digits = `${int}${frac}`.replace(/^0+/, '');
  let exp = (e === undefined ? 0 : Number(e)) - frac.length;
  const trimmed = digits.replace(/0+$/, '');
  exp += digits.length - trimmed.length;
  digits = trimmed;
  if (digits === '') return { coef: 0n, exp: 0 };
  const coef = BigInt(digits);
  return { coef: sign === '-' ? -coef : coef, exp };
}

/**
 * A number OPA keeps as text that JS cannot print back (`1.0`, `1e2`, `-0`, a computed `0.30000000000000000002`).
 * Compared, hashed and keyed by its exact decimal value; printed as its text.
 */
export class BigNum {
  private dec: ExactDecimal | undefined = undefined;
  private cachedKey: string | undefined = undefined;
  /** The nearest double (±Infinity past the double range). */
  readonly approx: number;
  constructor(readonly text: string) {
    this.approx = Number(text);
  }

  decimal(): ExactDecimal {
    return (this.dec ??= decimalOfText(this.text));
  }

  /** The structural key: equal to the key of an equal number in any representation. */
  key(): string {
    if (this.cachedKey !== undefined) return this.cachedKey;
    const { coef, exp } = this.decimal();
    let key: string;
    if (exp >= 0 && exp <= MAX_EXPANDED_EXP) key = `#${(coef * 10n ** BigInt(exp)).toString()}`;
    else if (exp >= 0) key = `#~${coef}e${exp}`;
    else {
      const d = Number(this.text);
      const back = Number.isFinite(d) ? decimalOfText(formatNumber(d)) : undefined;
      key = back && back.coef === coef && back.exp === exp ? `#${formatNumber(d)}` : `#~${coef}e${exp}`;
    }
    return (this.cachedKey = key);
  }

  isInteger(): boolean {
    return this.decimal().exp >= 0;
  }

  /** The value as a JS number or bigint: exact for integers, the nearest double otherwise. */
  plain(): number | bigint {
    const { coef, exp } = this.decimal();
    if (exp >= 0 && exp <= MAX_EXPANDED_EXP) return normalizeNumber(coef * 10n ** BigInt(exp));
    return Number(this.text);
  }
}

function expandInteger(d: ExactDecimal): bigint {
  return d.coef * 10n ** BigInt(d.exp);
}

// integers written with an exponent are expanded to digits (for keys and bigint values) up to this exponent
const MAX_EXPANDED_EXP = 4096;

/** A number from its OPA text (a Rego literal, a JSON number, an arithmetic result), in its canonical representation. */
export function numberFromText(text: string): RNumber {
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return text === formatNumber(n) ? n : bigNum(text);
    const b = BigInt(text);
    return b.toString() === text ? b : bigNum(text);
  }
  const n = Number(text);
  return Number.isFinite(n) && !Number.isInteger(n) && String(n) === text ? n : bigNum(text);
}

// recent BigNums by text: a policy computing the same value again gets the same object, with its decimal and key
// already worked out (and arithmetic's memo, keyed by operand identity, finds it)
const interned = new Map<string, BigNum>();
const MAX_INTERNED = 4096;

function bigNum(text: string): BigNum {
  let b = interned.get(text);
  if (b === undefined) {
    if (interned.size >= MAX_INTERNED) interned.clear();
    interned.set(text, (b = new BigNum(text)));
  }
  return b;
}

/** Parse a Rego/JSON number literal keeping its text (OPA's ast.Number is the literal's text). */
export const parseNumber = numberFromText;

export function isInteger(n: RNumber): boolean {
  if (typeof n === 'number') return Number.isInteger(n);
  return typeof n === 'bigint' || n.isInteger();
}

/** The number as a JS number or bigint (exact for integers, nearest double otherwise), for builtins that need no text. */
export function plainNumber(n: RNumber): number | bigint {
  return n instanceof BigNum ? n.plain() : n;
}

/** The number as a JS double (may round: use only where OPA also works in floats). */
export function toDouble(n: RNumber): number {
  return typeof n === 'number' ? n : typeof n === 'bigint' ? Number(n) : Number(n.text);
}

/** OPA's number text: as written or computed for a BigNum, integers without exponent, decimals as JS prints them. */
export function formatNumber(n: RNumber): string {
  if (typeof n === 'number') return Number.isInteger(n) && Math.abs(n) < 1e21 ? n.toFixed(0) : String(n);
  if (typeof n === 'bigint') return n.toString();
  return n.text;
}

/** The exact decimal value of a number. */
export function decimalOf(n: RNumber): ExactDecimal {
  if (n instanceof BigNum) return n.decimal();
  return decimalOfText(formatNumber(n));
}

function compareDecimals(a: ExactDecimal, b: ExactDecimal): number {
  const sa = a.coef < 0n ? -1 : a.coef > 0n ? 1 : 0;
  const sb = b.coef < 0n ? -1 : b.coef > 0n ? 1 : 0;
  if (sa !== sb || sa === 0) return sa < sb ? -1 : sa > sb ? 1 : 0;
  // same sign, both nonzero: compare magnitudes by order of magnitude first, then digits
  const da = (sa < 0 ? -a.coef : a.coef).toString();
  const db = (sb < 0 ? -b.coef : b.coef).toString();
  const ma = da.length + a.exp;
  const mb = db.length + b.exp;
  let c: number;
  if (ma !== mb) c = ma < mb ? -1 : 1;
  else {
    const len = Math.max(da.length, db.length);
    const pa = da.padEnd(len, '0');
    const pb = db.padEnd(len, '0');
    c = pa < pb ? -1 : pa > pb ? 1 : 0;
  }
  return sa < 0 ? -c : c;
}

// ── structural keys ────────────────────────────────────────────────────────────────────────────

/** A string that is equal for equal values (1 and 1.0 share a key; "1" does not). */
export function keyOf(v: Value): string {
  if (v === null) return 'n';
  switch (typeof v) {
    case 'boolean':
      return v ? 't' : 'f';
    case 'number':
      // integral doubles past 1e21 print with an exponent; key them by their digits like the equal bigint
      return Number.isInteger(v) && Math.abs(v) >= 1e21 && Number.isFinite(v) ? `#${expandInteger(decimalOfText(String(v)))}` : `#${formatNumber(v)}`;
    case 'bigint':
      return `#${v.toString()}`;
    case 'string':
      return `"${v}`;
  }
  if (Array.isArray(v)) return `[${v.map(keyOf).join('\u0000')}]`;
  if (v instanceof BigNum) return v.key();
  if (v.key !== undefined) return v.key;
  if (v instanceof RSet) return (v.key = `{${v.sortedKeys().join('\u0000')}}`);
  const parts: string[] = [];
  for (const [k, val] of v.sortedEntries()) parts.push(`${keyOf(k)}\u0001${keyOf(val)}`);
  return (v.key = `<${parts.join('\u0000')}>`);
}

export class RSet {
  private readonly items = new Map<string, Value>();
  /** keyOf(this), kept until the set changes (verdict sets key their members' objects over and over). */
  key: string | undefined = undefined;
  /** The elements in Rego's order, kept until the set changes (OPA iterates sets in sorted order). */
  private order: readonly Value[] | undefined = undefined;

  constructor(values?: Iterable<Value>) {
    if (values) for (const v of values) this.add(v);
  }

  get size(): number {
    return this.items.size;
  }

  add(v: Value): this {
    const k = keyOf(v);
    if (!this.items.has(k)) {
      this.items.set(k, v);
      this.key = undefined;
      this.order = undefined;
    }
    return this;
  }

  has(v: Value): boolean {
    return this.items.has(keyOf(v));
  }

  delete(v: Value): boolean {
    this.key = undefined;
    this.order = undefined;
    return this.items.delete(keyOf(v));
  }

  /** Elements in Rego's sort order, as OPA iterates a set. */
  values(): IterableIterator<Value> {
    return this.sorted().values();
  }

  [Symbol.iterator](): IterableIterator<Value> {
    return this.sorted().values();
  }

  /** Elements in insertion order, for callers where order cannot be observed (copies, membership). */
  unorderedValues(): IterableIterator<Value> {
    return this.items.values();
  }

  /** Elements in Rego's sort order; the array is shared until the set changes, so never mutate it. */
  sorted(): readonly Value[] {
    return (this.order ??= sortValues([...this.items.values()]));
  }

  sortedKeys(): string[] {
    return this.sorted().map(keyOf);
  }
}

/** Sort in place by `compare`; strings alone (the common case) by plain string order. */
function sortValues(xs: Value[]): Value[] {
  let strings = true;
  for (let i = 0; i < xs.length; i++) {
    if (typeof xs[i] !== 'string') {
      strings = false;
      break;
    }
  }
  return strings ? xs.sort(compareStrings as (a: Value, b: Value) => number) : xs.sort(compare);
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class RObject {
  // string keys are the common case and stay cheap; other keys go by structural key (allocated on first use)
  private strs: Map<string, Value>;
  private others: Map<string, [Value, Value]> | undefined = undefined;
  /** keyOf(this), kept until the object changes. */
  key: string | undefined = undefined;
  /** The entries in Rego's key order, kept until the object changes (OPA iterates objects in key order). */
  private order: ReadonlyArray<readonly [Value, Value]> | undefined = undefined;

  constructor(entries?: Iterable<readonly [Value, Value]>) {
    this.strs = new Map();
    if (entries) for (const [k, v] of entries) this.set(k, v);
  }

  static fromRecord(record: Record<string, Value>): RObject {
    const o = new RObject();
    for (const k of Object.keys(record)) o.strs.set(k, record[k] as Value);
    return o;
  }

  /** A shallow copy that can be changed without touching this object. */
  copy(): RObject {
    const o = new RObject();
    o.strs = new Map(this.strs);
    if (this.others) o.others = new Map(this.others);
    o.order = this.order;
    o.key = this.key;
    return o;
  }

  get size(): number {
    return this.strs.size + (this.others ? this.others.size : 0);
  }

  get(k: Value): Value | undefined {
    if (typeof k === 'string') return this.strs.get(k);
    return this.others?.get(keyOf(k))?.[1];
  }

  has(k: Value): boolean {
    return typeof k === 'string' ? this.strs.has(k) : this.others !== undefined && this.others.has(keyOf(k));
  }

  set(k: Value, v: Value): this {
    this.key = undefined;
    this.order = undefined;
    if (typeof k === 'string') this.strs.set(k, v);
    else (this.others ??= new Map()).set(keyOf(k), [k, v]);
    return this;
  }

  delete(k: Value): boolean {
    this.key = undefined;
    this.order = undefined;
    return typeof k === 'string' ? this.strs.delete(k) : this.others !== undefined && this.others.delete(keyOf(k));
  }

  /** Keys in Rego's order, as OPA iterates an object. */
  *keys(): IterableIterator<Value> {
    for (const e of this.sortedEntries()) yield e[0];
  }

  /** Entries in Rego's key order, as OPA iterates an object. */
  entries(): IterableIterator<readonly [Value, Value]> {
    return this.sortedEntries().values();
  }

  [Symbol.iterator](): IterableIterator<readonly [Value, Value]> {
    return this.sortedEntries().values();
  }

  /** Entries in insertion order, for callers where order cannot be observed (copies, merges into a new object). */
  *unorderedEntries(): IterableIterator<readonly [Value, Value]> {
    yield* this.strs.entries();
    if (this.others) yield* this.others.values();
  }

  /** Entries in Rego's key order; the array is shared until the object changes, so never mutate it. */
  sortedEntries(): ReadonlyArray<readonly [Value, Value]> {
    if (this.order) return this.order;
    const out: Array<[Value, Value]> = [...this.strs.entries()];
    if (this.others) {
      for (const e of this.others.values()) out.push(e);
      return (this.order = out.sort((a, b) => compare(a[0], b[0])));
    }
    // string keys only: plain string order
    return (this.order = out.sort((a, b) => compareStrings(a[0] as string, b[0] as string)));
  }

  /** True when every key is a string (JSON-representable without key conversion). */
  hasOnlyStringKeys(): boolean {
    return this.others === undefined || this.others.size === 0;
  }
}

// ── ordering and equality (OPA ast.Compare) ───────────────────────────────────────────────────

const TYPE_ORDER: Record<TypeName, number> = { null: 0, boolean: 1, number: 2, string: 3, array: 6, object: 7, set: 8 };

export function compareNumbers(a: RNumber, b: RNumber): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  // OPA compares numbers as exact rationals of their text (ast.Compare via big.Rat). Two numbers nearest to
  // different doubles are ordered like those doubles, so only a tie needs the exact decimals.
  if (a instanceof BigNum || b instanceof BigNum) {
    const da = typeof a === 'number' ? a : typeof a === 'bigint' ? Number(a) : a.approx;
    const db = typeof b === 'number' ? b : typeof b === 'bigint' ? Number(b) : b.approx;
    if (da !== db && !Number.isNaN(da) && !Number.isNaN(db)) return da < db ? -1 : 1;
    return compareDecimals(decimalOf(a), decimalOf(b));
  }
  // mixed: compare exactly where the double is an integer, else by double
  const [x, y] = [a, b];
  if (typeof x === 'number' && !Number.isInteger(x)) return x < Number(y) ? -1 : x > Number(y) ? 1 : 0;
  if (typeof y === 'number' && !Number.isInteger(y)) return Number(x) < y ? -1 : Number(x) > y ? 1 : 0;
  const bx = BigInt(x);
  const by = BigInt(y);
  return bx < by ? -1 : bx > by ? 1 : 0;
}

export function compare(a: Value, b: Value): number {
  const ta = typeName(a);
  const tb = typeName(b);
  if (ta !== tb) return TYPE_ORDER[ta] - TYPE_ORDER[tb];
  switch (ta) {
    case 'null':
      return 0;
    case 'boolean':
      return a === b ? 0 : a ? 1 : -1;
    case 'number':
      return compareNumbers(a as RNumber, b as RNumber);
    case 'string':
      return compareStrings(a as string, b as string);
    case 'array': {
      const x = a as Value[];
      const y = b as Value[];
      for (let i = 0; i < x.length && i < y.length; i++) {
        const c = compare(x[i] as Value, y[i] as Value);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    case 'object': {
      const x = (a as RObject).sortedEntries();
      const y = (b as RObject).sortedEntries();
      for (let i = 0; i < x.length && i < y.length; i++) {
        const [xk, xv] = x[i] as [Value, Value];
        const [yk, yv] = y[i] as [Value, Value];
        const ck = compare(xk, yk);
        if (ck !== 0) return ck;
        const cv = compare(xv, yv);
        if (cv !== 0) return cv;
      }
      return x.length - y.length;
    }
    case 'set': {
      const x = (a as RSet).sorted();
      const y = (b as RSet).sorted();
      for (let i = 0; i < x.length && i < y.length; i++) {
        const c = compare(x[i] as Value, y[i] as Value);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
  }
}

export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  const ta = typeName(a);
  if (ta !== typeName(b)) return false;
  if (ta === 'number') return compareNumbers(a as RNumber, b as RNumber) === 0;
  if (ta === 'string' || ta === 'boolean' || ta === 'null') return false;
  return keyOf(a) === keyOf(b);
}

// ── JSON conversion ────────────────────────────────────────────────────────────────────────────

/** A parsed JSON document (numbers already `number`) to a Value. Plain objects become RObject. */
export function fromJSON(x: unknown): Value {
  if (x === null || x === undefined) return null;
  switch (typeof x) {
    case 'boolean':
    case 'string':
      return x;
    case 'number':
      return x;
    case 'bigint':
      return normalizeNumber(x);
  }
  if (Array.isArray(x)) return x.map(fromJSON);
  if (x instanceof RSet || x instanceof RObject || x instanceof BigNum) return x;
  const o = new RObject();
  for (const k of Object.keys(x as object)) o.set(k, fromJSON((x as Record<string, unknown>)[k]));
  return o;
}

/**
 * A Value to plain JSON data as OPA serializes it: sets become sorted arrays, non-string object keys become their
 * JSON text (as OPA's ast.JSON does). Big integers stay `bigint`; use `stringifyJSON` to print them exactly.
 */
export function toJSON(v: Value): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof BigNum) return v.plain();
  if (Array.isArray(v)) return v.map(toJSON);
  if (v instanceof RSet) return v.sorted().map(toJSON);
  const out: Record<string, unknown> = {};
  for (const [k, val] of v.sortedEntries()) out[typeof k === 'string' ? k : stringifyJSON(k)] = toJSON(val);
  return out;
}

/**
 * JSON text of a Value: keys in sorted order, big integers exact, no insignificant whitespace. `quote` writes strings
 * and keys (json.marshal passes Go's HTML-safe escaping).
 */
export function stringifyJSON(v: Value, quote: (s: string) => string = JSON.stringify): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
    case 'bigint':
      return formatNumber(v);
    case 'string':
      return quote(v);
  }
  if (v instanceof BigNum) return v.text;
  const text = (x: Value): string => stringifyJSON(x, quote);
  if (Array.isArray(v)) return `[${v.map(text).join(',')}]`;
  if (v instanceof RSet) return `[${v.sorted().map(text).join(',')}]`;
  const parts: string[] = [];
  for (const [k, val] of v.sortedEntries()) parts.push(`${quote(typeof k === 'string' ? k : text(k))}:${text(val)}`);
  return `{${parts.join(',')}}`;
}

/**
 * A value as Rego term text (`[1, "a"]`, `{"a": 1}`, `set()`), as template strings and print show it: sorted sets and
 * objects, `", "` separators. `quote` writes strings (sprintf passes Go's strconv.Quote).
 */
export function formatTerm(v: Value, quote: (s: string) => string = JSON.stringify): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
    case 'bigint':
      return formatNumber(v);
    case 'string':
      return quote(v);
  }
  if (v instanceof BigNum) return v.text;
  const text = (x: Value): string => formatTerm(x, quote);
  if (Array.isArray(v)) return `[${v.map(text).join(', ')}]`;
  if (v instanceof RSet) return v.size === 0 ? 'set()' : `{${v.sorted().map(text).join(', ')}}`;
  return `{${v
    .sortedEntries()
    .map(([k, x]) => `${text(k)}: ${text(x)}`)
    .join(', ')}}`;
}
