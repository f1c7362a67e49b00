// Builtins: net.cidr_contains, net.cidr_intersects, net.cidr_expand, net.cidr_merge, net.cidr_is_valid, net.cidr_contains_matches, net.lookup_ip_addr (not supported)
// (owner while building: B1)
import { register } from './registry.ts';

void register;
