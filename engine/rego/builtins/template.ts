// Builtins: strings.render_template
// (owner while building: B2)
import { register } from './registry.ts';

void register;
