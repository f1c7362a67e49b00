// Builtins: semver.is_valid, semver.compare
// (owner while building: B1)
import { register } from './registry.ts';

void register;
