// A minimal DER reader for the X.509 structures node:crypto does not expose as data (names, SANs, CSRs).
// Only what crypto.x509.* needs: TLV walking, OIDs, strings and the Name/extension layouts of RFC 5280 / 2986.

export interface Tlv {
  tag: number;
  /** Whole element (header + content). */
  raw: Uint8Array;
  content: Uint8Array;
}

export class Asn1Error extends Error {}

export function readTlv(buf: Uint8Array, at: number): { tlv: Tlv; next: number } {
  if (at + 2 > buf.length) throw new Asn1Error('truncated');
  const tag = buf[at] as number;
  let len = buf[at + 1] as number;
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || at + 2 + n > buf.length) throw new Asn1Error('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[at + 2 + i] as number);
    head += n;
  }
  const end = at + head + len;
  if (end > buf.length) throw new Asn1Error('truncated');
  return { tlv: { tag, raw: buf.subarray(at, end), content: buf.subarray(at + head, end) }, next: end };
}

/** The children of a constructed element. */
export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < t.content.length; ) {
    const { tlv, next } = readTlv(t.content, at);
    out.push(tlv);
    at = next;
  }
  return out;
}

/** Consecutive top-level elements, e.g. a DER certificate chain. */
export function readAll(buf: Uint8Array): Tlv[] {
  return children({ tag: 0x30, raw: buf, content: buf });
}

export function oid(t: Tlv): string {
  const b = t.content;
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + ((b[i] as number) & 0x7f);
    if (!((b[i] as number) & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

export function text(t: Tlv): string {
  if (t.tag === 0x1e) {
    let s = ''; // BMPString: UTF-16BE
    for (let i = 0; i + 1 < t.content.length; i += 2) s += String.fromCharCode(((t.content[i] as number) << 8) | (t.content[i + 1] as number));
    return s;
  }
  return Buffer.from(t.content).toString(t.tag === 0x0c ? 'utf8' : 'latin1');
}

const NAME_FIELDS: Record<string, string> = {
  '2.5.4.6': 'Country',
  '2.5.4.10': 'Organization',
  '2.5.4.11': 'OrganizationalUnit',
  '2.5.4.7': 'Locality',
  '2.5.4.8': 'Province',
  '2.5.4.9': 'StreetAddress',
  '2.5.4.17': 'PostalCode',
};

/** An X.501 Name as Go's pkix.Name marshals it (multi-valued fields are lists, absent ones null). */
export function pkixName(name: Tlv): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Country: null, Organization: null, OrganizationalUnit: null, Locality: null, Province: null,
    StreetAddress: null, PostalCode: null, SerialNumber: '', CommonName: '', Names: [] as unknown[], ExtraNames: null,
  };
  for (const rdn of children(name)) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      if (!type || !value) continue;
      const id = oid(type);
      const v = text(value);
      (out.Names as unknown[]).push({ Type: id.split('.').map(Number), Value: v });
      const field = NAME_FIELDS[id];
      if (field) out[field] = [...((out[field] as string[] | null) ?? []), v];
      else if (id === '2.5.4.3') out.CommonName = v;
      else if (id === '2.5.4.5') out.SerialNumber = v;
    }
  }
  return out;
}

export interface AltNames {
  DNSNames: string[] | null;
  EmailAddresses: string[] | null;
  IPAddresses: string[] | null;
  URIStrings: string[] | null;
}

function ipText(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) groups.push((((b[i] as number) << 8) | (b[i + 1] as number)).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

/** Subject alternative names from a GeneralNames sequence. */
export function altNames(seq: Tlv): AltNames {
  const out: AltNames = { DNSNames: null, EmailAddresses: null, IPAddresses: null, URIStrings: null };
  const push = (k: keyof AltNames, v: string): void => {
    out[k] = [...(out[k] ?? []), v];
  };
  for (const gn of children(seq)) {
    const s = Buffer.from(gn.content).toString('latin1');
    if (gn.tag === 0x82) push('DNSNames', s);
    else if (gn.tag === 0x81) push('EmailAddresses', s);
    else if (gn.tag === 0x86) push('URIStrings', s);
    else if (gn.tag === 0x87) push('IPAddresses', ipText(gn.content));
  }
  return out;
}
