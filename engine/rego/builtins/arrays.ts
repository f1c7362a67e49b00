// Builtins: array.concat, array.slice, array.reverse
// (owner while building: A)
import { register } from './registry.ts';

void register;
