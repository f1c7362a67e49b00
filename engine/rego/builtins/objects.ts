// Builtins: object.get, object.remove, object.union, object.union_n, object.filter, object.keys, object.subset, walk
// (owner while building: A)
import { register } from './registry.ts';

void register;
