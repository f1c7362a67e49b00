// Builtins: providers.aws.sign_req
// (owner while building: B2)
import { register } from './registry.ts';

void register;
