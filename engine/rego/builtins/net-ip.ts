// IP addresses and CIDR blocks as Go's net package parses and prints them: addresses are bigints (32 or 128 bits).

export interface IP {
  v6: boolean;
  addr: bigint;
}

export interface CIDR extends IP {
  prefix: number;
}

export const bitsOf = (ip: IP): number => (ip.v6 ? 128 : 32);

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let out = 0n;
  for (const p of parts) {
    // Go rejects leading zeros since 1.17 (they were ambiguous octal)
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    out = (out << 8n) | BigInt(p);
  }
  return out;
}

function parseV6(s: string): bigint | undefined {
  if (s.includes('%')) return undefined;
  let tailV4: bigint | undefined;
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tailV4 = parseV4(s.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    text = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string): string[] | undefined => {
    if (h === '') return [];
    const gs = h.split(':');
    return gs.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g)) ? gs : undefined;
  };
  const head = group(halves[0] as string);
  const tail = halves.length === 2 ? group(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 2 && fill < 1) || (halves.length === 1 && fill !== 0)) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail];
  let out = 0n;
  for (const g of groups) out = (out << 16n) | BigInt(parseInt(g, 16));
  if (tailV4 !== undefined) out = (out & ~0xffffffffn) | tailV4;
  return out;
}

export function parseIP(s: string): IP | undefined {
  if (s.includes(':')) {
    const a = parseV6(s);
    return a === undefined ? undefined : { v6: true, addr: a };
  }
  const a = parseV4(s);
  return a === undefined ? undefined : { v6: false, addr: a };
}

export const maskOf = (bits: number, prefix: number): bigint => ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);

/** Go's net.ParseCIDR; the address keeps its host bits (`addr`), `network()` clears them. */
export function parseCIDR(s: string): CIDR | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  if (!ip || !/^(0|[1-9]\d*)$/.test(bitsText)) return undefined;
  const prefix = Number(bitsText);
  if (prefix > bitsOf(ip)) return undefined;
  return { ...ip, prefix };
}

export const network = (c: CIDR): CIDR => ({ ...c, addr: c.addr & maskOf(bitsOf(c), c.prefix) });
export const lastAddr = (c: CIDR): bigint => network(c).addr | ((1n << BigInt(bitsOf(c) - c.prefix)) - 1n);

export function cidrContainsIP(c: CIDR, ip: IP): boolean {
  return c.v6 === ip.v6 && (ip.addr & maskOf(bitsOf(c), c.prefix)) === network(c).addr;
}

/** Go's IP.String(): dotted quad, or RFC 5952 for IPv6 (IPv4-mapped addresses print as IPv4). */
export function formatIP(ip: IP): string {
  if (!ip.v6 || ip.addr >> 32n === 0xffffn) {
    const a = ip.addr & 0xffffffffn;
    return [24n, 16n, 8n, 0n].map((s) => String((a >> s) & 255n)).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.addr >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export const formatCIDR = (c: CIDR): string => `${formatIP(c)}/${c.prefix}`;
