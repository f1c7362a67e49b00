// Builtins: semver.is_valid, semver.compare
import type { Value } from '../value.ts';
import { BuiltinError, T, expectString, register } from './registry.ts';

// OPA's internal/semver Parse, not the SemVer grammar: one leading `v` is dropped, the first `+` starts metadata and
// the first `-` a pre-release (each `[0-9A-Za-z-]+` dot-separated, or empty), and the three numbers are whatever
// strconv.ParseInt(s, 10, 64) takes: leading zeros and a sign are accepted.
const IDENTIFIERS = /^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/;
const INT64_MAX = 2n ** 63n - 1n;

interface Version {
  core: [bigint, bigint, bigint];
  pre: string;
}

const cut = (s: string, sep: string): [string, string] => {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
};

function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n > INT64_MAX || n < -INT64_MAX - 1n ? undefined : n;
}

function parseVersion(text: string): Version | undefined {
  const [withPre, meta] = cut(text.startsWith('v') ? text.slice(1) : text, '+');
  if (meta !== '' && !IDENTIFIERS.test(meta)) return undefined;
  const [version, pre] = cut(withPre, '-');
  if (pre !== '' && !IDENTIFIERS.test(pre)) return undefined;
  if (version.split('.').length !== 3) return undefined;
  const [a = '', b = '', c = ''] = version.split('.');
  const core = [parseInt64(a), parseInt64(b), parseInt64(c)];
  if (core.some((n) => n === undefined)) return undefined;
  return { core: core as [bigint, bigint, bigint], pre };
}

const sign = (a: bigint | string, b: bigint | string): number => (a < b ? -1 : a > b ? 1 : 0);
const allDecimals = (s: string): boolean => /^[0-9]+$/.test(s);

/** Version.Compare: numbers, then no pre-release above any, then pre-release fields left to right. */
export function compareVersions(v: Version, o: Version): number {
  for (let i = 0; i < 3; i++) {
    const c = sign(v.core[i] as bigint, o.core[i] as bigint);
    if (c) return c;
  }
  if (v.pre === o.pre) return 0;
  if (v.pre === '') return 1;
  if (o.pre === '') return -1;
  let [a, afterA] = cut(v.pre, '.');
  let [b, afterB] = cut(o.pre, '.');
  for (;;) {
    if (a === '' && b !== '') return -1;
    if (a !== '' && b === '') return 1;
    const ai = allDecimals(a);
    const bi = allDecimals(b);
    if (ai && !bi) return -1;
    if (!ai && bi) return 1;
    const c = ai && bi ? sign(BigInt(a), BigInt(b)) : sign(a, b);
    if (c) return c;
    if (afterA !== '' && afterB === '') return 1;
    if (afterA === '' && afterB !== '') return -1;
    if (afterA === '' && afterB === '') return 0;
    [a, afterA] = cut(afterA, '.');
    [b, afterB] = cut(afterB, '.');
  }
}

register({
  name: 'semver.is_valid',
  sig: { args: [T.any], result: T.boolean },
  fn: ([v]) => typeof v === 'string' && parseVersion(v) !== undefined,
});

register({
  name: 'semver.compare',
  sig: { args: [T.string, T.string], result: T.number },
  fn: ([a, b]) => {
    const version = (pos: number, v: Value): Version => {
      const s = expectString('semver.compare', pos, v);
      const parsed = parseVersion(s);
      if (!parsed) throw new BuiltinError('semver.compare', `operand ${pos}: string ${JSON.stringify(s)} is not a valid SemVer`);
      return parsed;
    };
    return compareVersions(version(1, a as Value), version(2, b as Value));
  },
});
