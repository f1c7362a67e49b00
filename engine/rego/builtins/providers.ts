// Builtins: providers.aws.sign_req
// AWS Signature Version 4 request signing, computed locally: no network. The time comes from the caller.
import { createHash, createHmac } from 'node:crypto';
import { register, T, BuiltinError, expectNumber, expectObject } from './registry.ts';
import { RObject, isInteger, stringifyJSON, toDouble } from '../value.ts';
import type { Value } from '../value.ts';

const NAME = 'providers.aws.sign_req';

/** OPA reports malformed operands of this builtin as type errors. */
class SignRequestTypeError extends BuiltinError {
  override readonly code = 'eval_type_error';
}

const keySet = (keys: string[]): string => `{${[...keys].sort().map((k) => JSON.stringify(k)).join(', ')}}`;

/** The named string fields of an operand, or the type error OPA raises when some are missing or not strings. */
function requireStrings(obj: RObject, pos: number, keys: string[], what: string): Record<string, string> {
  const missing = keys.filter((k) => !obj.has(k));
  if (missing.length > 0) throw new SignRequestTypeError(NAME, `operand ${pos} missing required ${what} parameters(s): ${keySet(missing)}`);
  const invalid = keys.filter((k) => typeof obj.get(k) !== 'string');
  if (invalid.length > 0) throw new SignRequestTypeError(NAME, `operand ${pos} invalid values for required ${what} parameters(s): ${keySet(invalid)}`);
  return Object.fromEntries(keys.map((k) => [k, obj.get(k) as string]));
}

const sha256 = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 escaping as SigV4 wants it (unreserved characters kept, everything else %XX). */
function uriEscape(s: string, keepSlash: boolean): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) return c;
      return `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

function canonicalQuery(search: URLSearchParams): string {
  return [...search.entries()]
    .map(([k, v]) => [uriEscape(k, false), uriEscape(v, false)] as const)
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function amzDate(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

register({
  name: NAME,
  sig: { args: [T.object(T.string, T.any), T.object(T.string, T.any), T.number], result: T.object(T.string, T.any) },
  fn([reqArg, configArg, timeArg]) {
    const req = expectObject(NAME, 1, reqArg as Value);
    const config = expectObject(NAME, 2, configArg as Value);
    const timeNs = expectNumber(NAME, 3, timeArg as Value);
    const { method, url } = requireStrings(req, 1, ['method', 'url'], 'request');
    const aws = requireStrings(config, 2, ['aws_access_key', 'aws_secret_access_key', 'aws_service', 'aws_region'], 'AWS config');
    const token = config.get('aws_session_token');
    const disable = config.get('disable_payload_signing') ?? false;
    if (typeof disable !== 'boolean') throw new SignRequestTypeError(NAME, `operand 2 invalid value for 'disable_payload_signing' in AWS config`);
    if (!isInteger(timeNs) && !Number.isFinite(toDouble(timeNs))) throw new SignRequestTypeError(NAME, 'operand 3 could not convert time_ns value into a unix timestamp');
    const ns = typeof timeNs === 'bigint' ? timeNs : BigInt(Math.trunc(timeNs));
    if (ns < 0n) throw new SignRequestTypeError(NAME, 'operand 3 could not convert time_ns value into a unix timestamp');

    // the payload: raw_body wins over body, which is sent as its JSON text
    const raw = req.get('raw_body');
    const body = req.get('body');
    const payload = typeof raw === 'string' ? raw : body !== undefined ? stringifyJSON(body) : '';
    const payloadHash = disable ? 'UNSIGNED-PAYLOAD' : sha256(payload);

    const parsed = new URL(url);
    const date = amzDate(ns);
    const day = date.slice(0, 8);
    const given = req.get('headers');
    const headers = new Map<string, string[]>();
    if (given instanceof RObject) {
      for (const [k, v] of given.entries()) {
        const key = String(k).toLowerCase();
        headers.set(key, [...(headers.get(key) ?? []), typeof v === 'string' ? v : stringifyJSON(v)]);
      }
    }
    // a caller's own content hash header is what OPA signs; the returned request carries the computed one
    const callerHash = headers.get('x-amz-content-sha256');
    headers.set('host', [parsed.host]);
    headers.set('x-amz-content-sha256', callerHash ?? [payloadHash]);
    headers.set('x-amz-date', [date]);
    if (typeof token === 'string') headers.set('x-amz-security-token', [token]);
    const names = [...headers.keys()].sort();
    const canonicalHeaders = names.map((n) => `${n}:${(headers.get(n) as string[]).map((v) => v.trim()).join(',')}\n`).join('');
    const signedHeaders = names.join(';');
    const canonicalRequest = [
      // OPA signs the method as given and the path as written (empty stays empty)
      method,
      /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(url)?.[1] ?? '',
      canonicalQuery(parsed.searchParams),
      canonicalHeaders,
      signedHeaders,
      payloadHash,
    ].join('\n');
    const scope = `${day}/${aws.aws_region}/${aws.aws_service}/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256(canonicalRequest)].join('\n');
    let key = hmac(`AWS4${aws.aws_secret_access_key}`, day);
    for (const part of [aws.aws_region as string, aws.aws_service as string, 'aws4_request']) key = hmac(key, part);
    const signature = hmac(key, stringToSign).toString('hex');

    const out = new RObject(req.entries());
    const outHeaders = new RObject();
    for (const n of names) outHeaders.set(n, (headers.get(n) as string[])[(headers.get(n) as string[]).length - 1] as string);
    outHeaders.set('x-amz-content-sha256', payloadHash);
    outHeaders.set('Authorization', `AWS4-HMAC-SHA256 Credential=${aws.aws_access_key}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`);
    out.set('headers', outHeaders);
    return out;
  },
});
