// Builtins: count, sum, product, max, min, sort, all, any
// (owner while building: A)
import { register } from './registry.ts';

void register;
