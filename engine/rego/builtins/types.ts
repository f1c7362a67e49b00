// Builtins: is_number, is_string, is_boolean, is_array, is_set, is_object, is_null, type_name, to_number
// (owner while building: A)
import { register } from './registry.ts';

void register;
