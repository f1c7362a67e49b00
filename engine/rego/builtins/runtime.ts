// Builtins: print, trace, opa.runtime, rego.parse_module, rego.metadata.rule, rego.metadata.chain, internal.* helpers, time.now_ns
// (owner while building: A)
import { register } from './registry.ts';

void register;
