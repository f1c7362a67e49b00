// Builtins: regex.match, regex.is_valid, regex.split, regex.replace, regex.find_n, regex.find_all_string_submatch_n, regex.template_match, regex.globs_match
// (owner while building: B1)
import { register } from './registry.ts';

void register;
