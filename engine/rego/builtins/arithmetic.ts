// Builtins: plus, minus, mul, div, rem, abs, round, ceil, floor, numbers.range, numbers.range_step, rand.intn
// (owner while building: A)
import { register } from './registry.ts';

void register;
