// Builtins: base64*, base64url*, hex.*, urlquery.*, json.marshal*, json.unmarshal, json.is_valid, yaml.*
// (owner while building: B1)
import { register } from './registry.ts';

void register;
