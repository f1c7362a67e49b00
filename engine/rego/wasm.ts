// opa-wasm backend: in progress (the interpreter backend covers bundles without policy.wasm).
import { BundleError } from '../errors.ts';
import type { Bundle } from '../bundle.ts';
import type { PolicyBackend } from '../types.ts';

export async function createWasmBackend(bundle: Bundle): Promise<PolicyBackend> {
  throw new BundleError('policy.wasm bundles are not supported yet', bundle.dir);
}
