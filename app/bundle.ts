// The shipped policy bundle, used when no --bundle (or config `bundle`) is given: the one definition.
import { fileURLToPath } from 'node:url';

export const DEFAULT_BUNDLE = fileURLToPath(new URL('../policies/remediation', import.meta.url));
