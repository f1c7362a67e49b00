// Builtins: uuid.rfc4122, uuid.parse
// (owner while building: B1)
import { register } from './registry.ts';

void register;
