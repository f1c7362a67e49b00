// Builtins: io.jwt.decode, io.jwt.decode_verify, io.jwt.verify_*, io.jwt.encode_sign, io.jwt.encode_sign_raw
// (owner while building: B2)
import { register } from './registry.ts';

void register;
