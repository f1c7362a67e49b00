// Builtins: concat, contains, startswith, endswith, format_int, indexof, indexof_n, lower, upper, replace, split, sprintf, substring, trim*, strings.*
// (owner while building: B1)
import { register } from './registry.ts';

void register;
