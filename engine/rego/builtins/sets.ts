// Builtins: and, or, minus (set forms), intersection, union
// (owner while building: A)
import { register } from './registry.ts';

void register;
