// Builtins: crypto.md5, crypto.sha1, crypto.sha256, crypto.hmac.*, crypto.x509.*, crypto.parse_private_keys
// (owner while building: B2)
import { register } from './registry.ts';

void register;
