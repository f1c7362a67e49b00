// Builtins: glob.match, glob.quote_meta
// (owner while building: B1)
import { register } from './registry.ts';

void register;
