// Builtins: http.send (not supported: no network in policies)
// (owner while building: B2)
import { register } from './registry.ts';

void register;
