// Builtins: time.parse_ns, time.parse_rfc3339_ns, time.parse_duration_ns, time.date, time.clock, time.weekday, time.add_date, time.diff, time.format
// (owner while building: B1)
import { register } from './registry.ts';

void register;
