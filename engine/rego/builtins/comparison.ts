// Builtins: equality and ordering operators: eq, neq, lt, lte, gt, gte, equal, assign helpers
// (owner while building: A)
import { register } from './registry.ts';

void register;
