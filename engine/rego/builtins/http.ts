// Builtins: http.send (not supported: no network in policies)
import { register, T, BuiltinError, expectObject } from './registry.ts';
import { RSet, stringifyJSON } from '../value.ts';
import type { Value } from '../value.ts';

/** Policies are pure functions of their inputs: a network call would make decisions unreproducible. */
export const NO_NETWORK = 'not supported: arbiter policies have no network access';

/** A malformed request object is a type error in OPA, raised before any network use. */
class RequestTypeError extends BuiltinError {
  override readonly code = 'eval_type_error';
}

const ALLOWED_KEYS = new Set([
  'method', 'url', 'body', 'enable_redirect', 'force_json_decode', 'force_yaml_decode', 'headers', 'raw_body',
  'tls_use_system_certs', 'tls_ca_cert', 'tls_ca_cert_file', 'tls_ca_cert_env_variable', 'tls_client_cert',
  'tls_client_cert_file', 'tls_client_cert_env_variable', 'tls_client_key', 'tls_client_key_file',
  'tls_client_key_env_variable', 'tls_insecure_skip_verify', 'tls_server_name', 'timeout', 'cache', 'force_cache',
  'force_cache_duration_seconds', 'raise_error', 'caching_mode', 'max_retry_attempts', 'cache_ignored_headers',
]);
const REQUIRED_KEYS = ['method', 'url'];

/** A set of keys as OPA prints it: `{"a", "b"}`. */
function regoSet(keys: Value[]): string {
  return `{${new RSet(keys).sorted().map((k) => stringifyJSON(k)).join(', ')}}`;
}

register({
  name: 'http.send',
  sig: { args: [T.object(T.string, T.any)], result: T.object(T.any, T.any) },
  nondeterministic: true,
  fn([req]) {
    const request = expectObject('http.send', 1, req as Value);
    const invalid = [...request.keys()].filter((k) => typeof k !== 'string' || !ALLOWED_KEYS.has(k));
    if (invalid.length > 0) {
      throw new RequestTypeError('http.send', `invalid request parameters(s): ${regoSet(invalid)}`);
    }
    const missing = REQUIRED_KEYS.filter((k) => !request.has(k));
    if (missing.length > 0) {
      throw new RequestTypeError('http.send', `missing required request parameters(s): ${regoSet(missing)}`);
    }
    throw new BuiltinError('http.send', NO_NETWORK);
  },
});
