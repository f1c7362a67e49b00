// Builtins: units.parse, units.parse_bytes
// (owner while building: B1)
import { register } from './registry.ts';

void register;
