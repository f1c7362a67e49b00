// Builtins: graph.reachable, graph.reachable_paths
// (owner while building: B2)
import { register } from './registry.ts';

void register;
