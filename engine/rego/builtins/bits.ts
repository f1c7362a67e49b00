// Builtins: bits.and, bits.or, bits.xor, bits.negate, bits.lsh, bits.rsh
// (owner while building: A)
import { register } from './registry.ts';

void register;
