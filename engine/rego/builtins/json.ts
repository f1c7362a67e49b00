// Builtins: json.patch, json.filter, json.remove, json.verify_schema, json.match_schema
// (owner while building: B1)
import { register } from './registry.ts';

void register;
