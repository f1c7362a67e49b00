// Builtins: semver.is_valid, semver.compare
// Semantic Versioning 2.0.0: strict MAJOR.MINOR.PATCH[-pre][+build]; build metadata does not affect precedence.
import type { Value } from '../value.ts';
import { BuiltinError, T, expectString, register } from './registry.ts';

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

interface Version {
  core: [bigint, bigint, bigint];
  pre: string[];
}

function parseVersion(s: string): Version | undefined {
  const m = SEMVER.exec(s);
  if (!m) return undefined;
  return { core: [BigInt(m[1] as string), BigInt(m[2] as string), BigInt(m[3] as string)], pre: m[4] ? m[4].split('.') : [] };
}

const sign = (a: bigint | string, b: bigint | string): number => (a < b ? -1 : a > b ? 1 : 0);

export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const c = sign(a.core[i] as bigint, b.core[i] as bigint);
    if (c) return c;
  }
  // a version without pre-release identifiers has higher precedence
  if (!a.pre.length || !b.pre.length) return b.pre.length - a.pre.length === 0 ? 0 : a.pre.length ? -1 : 1;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i] as string;
    const y = b.pre[i] as string;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    const c = xn && yn ? sign(BigInt(x), BigInt(y)) : xn ? -1 : yn ? 1 : sign(x, y);
    if (c) return c;
  }
  return sign(BigInt(a.pre.length), BigInt(b.pre.length));
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
