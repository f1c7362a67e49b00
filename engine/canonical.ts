// Canonical JSON (keys sorted, no insignificant whitespace) and the hashes derived from it (DESIGN §4.7).
import crypto from 'node:crypto';
import type { ActionParams, ActionTarget } from './types.ts';

// strings without quotes, backslashes or control characters need no escaping (the common case, and much faster)
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;
function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** Own keys in code-unit order; objects here have a handful of keys, where insertion sort beats `Array#sort`. */
function sortedKeys(obj: object): string[] {
  const keys = Object.keys(obj);
  const n = keys.length;
  if (n > 16) return keys.sort();
  for (let i = 1; i < n; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/** JSON with object keys sorted by code unit and no whitespace; `undefined` members are dropped like JSON.stringify. */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot encode a non-finite number');
      return String(value); // what JSON.stringify prints for a finite number (-0 included)
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const v: unknown = value[i];
          out += v === undefined ? 'null' : canonicalJson(v);
        }
        return `${out}]`;
      }
      const obj = value as Record<string, unknown>;
      const keys = sortedKeys(obj);
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const v = obj[k];
        if (v === undefined) continue;
        if (out.length > 1) out += ',';
        out += `${quote(k)}:${canonicalJson(v)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
  }
}

// one-shot crypto.hash (Node ≥ 20.12) skips the Hash object: about twice as fast on the short texts hashed per decision
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string }).hash;

export function sha256Hex(text: string | Uint8Array): string {
  return oneShotHash ? oneShotHash('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

export interface IdempotencySubject {
  incident: string;
  action: { kind: string; target: ActionTarget; params: ActionParams } | null;
  /** Used for the target when there is no action (an escalation). */
  target?: ActionTarget;
}

/**
 * `sha256:` + hex of the canonical JSON of `{incident, kind, target, params}`.
 * An escalation without an action hashes `{incident, kind: "escalate", target, params: {}}`.
 */
export function idempotencyKey(subject: IdempotencySubject): string {
  const a = subject.action;
  const body = a
    ? { incident: subject.incident, kind: a.kind, target: a.target, params: a.params }
    : { incident: subject.incident, kind: 'escalate', target: subject.target ?? null, params: {} };
  return `sha256:${sha256Hex(canonicalJson(body))}`;
}

/** `dec-` + the first 16 hex of sha256(canonical JSON of {diagnosis id, bundle digest, context}). */
export function decisionId(diagnosisId: string, bundleDigest: string, context: unknown): string {
  return `dec-${sha256Hex(canonicalJson({ bundle: bundleDigest, context, diagnosis: diagnosisId })).slice(0, 16)}`;
}
