// The opa-wasm backend (DESIGN §4): a bundle's `policy.wasm` (from `opa build -t wasm -e arbiter/policies`) evaluated
// through @open-policy-agent/opa-wasm with the bundle's data. Same phases and shape checks as the interpreter backend;
// OPA's wasm target cannot say which rule produced a value, so its verdicts carry no source line.
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { BundleError } from '../errors.ts';
import { UNKNOWN_COST, UNKNOWN_PRIORITY, type Action, type PolicyBackend, type PolicyError, type PolicyInput, type Proposal, type Verdict } from '../types.ts';
import { checkInputBounds, failedPolicyVerdict, toProposals, toVerdicts, type RegoBundle, type RegoPolicy } from './backend.ts';

export const WASM_ENTRYPOINT = 'arbiter/policies';

/** Linear memory the policy may grow to (64 KiB pages): 64 MiB, so a runaway policy fails instead of the process. */
const MAX_MEMORY_PAGES = 1024;

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Loads `policy.wasm` and checks it has the `arbiter/policies` entrypoint. */
export async function loadBundleWasm(bytes: Uint8Array, where: string): Promise<LoadedPolicy> {
  let policy: LoadedPolicy;
  try {
    policy = await loadPolicy(bytes, { initial: 5, maximum: MAX_MEMORY_PAGES });
  } catch (err) {
    throw new BundleError(`not a loadable OPA wasm module: ${(err as Error).message}`, where);
  }
  const entrypoints = Object.keys((policy.entrypoints ?? {}) as Record<string, unknown>);
  if (!entrypoints.includes(WASM_ENTRYPOINT)) {
    throw new BundleError(`has no ${WASM_ENTRYPOINT} entrypoint (found: ${entrypoints.join(', ') || 'none'}); build it with \`opa build -t wasm -e ${WASM_ENTRYPOINT}\``, where);
  }
  return policy;
}

/** Evaluates the entrypoint: the `data.arbiter.policies` document as plain JSON (sets arrive as arrays). */
export function evaluatePolicies(policy: LoadedPolicy, input: unknown, where: string): Record<string, unknown> {
  let results: unknown;
  try {
    results = policy.evaluate(input, WASM_ENTRYPOINT);
  } catch (err) {
    throw new BundleError(`evaluation failed: ${(err as Error).message}`, where);
  }
  const first = Array.isArray(results) ? (results[0] as { result?: unknown } | undefined) : undefined;
  return isRecord(first?.result) ? first.result : {};
}

export async function createWasmBackend(bundle: RegoBundle): Promise<PolicyBackend> {
  const where = bundle.wasm?.file ?? 'policy.wasm';
  if (!bundle.wasm) throw new BundleError('the bundle has no policy.wasm', bundle.dir);
  const policy = await loadBundleWasm(bundle.wasm.bytes, where);
  try {
    policy.setData(bundle.data);
  } catch (err) {
    throw new BundleError(`cannot load the bundle's data into the wasm policy: ${(err as Error).message}`, where);
  }
  // the package names: what the entrypoint yields for an empty input (every package with a partial set rule appears)
  const names = Object.keys(evaluatePolicies(policy, {}, where)).sort();
  const celNames = new Set(bundle.celPolicies.map((p) => p.name));
  const clash = names.find((n) => celNames.has(n));
  if (clash) throw new BundleError(`policy name "${clash}" is used by both a CEL policy and policy.wasm`, where);
  // the wasm module hides its rules: a failure's priority, weight and cost cannot be known
  const failure = { priority: UNKNOWN_PRIORITY, weight: UNKNOWN_PRIORITY, cost: UNKNOWN_COST };
  const policyOf = (name: string): RegoPolicy => ({ name, files: [where], hasProposals: true, hasVerdicts: true, judgesKinds: null, failure });
  const policies = new Map<string, RegoPolicy>(names.map((name) => [name, policyOf(name)]));

  type Outcome = { policy: RegoPolicy; members: Array<{ value: unknown }> } | { policy: RegoPolicy; failure: string };
  const collect = (input: PolicyInput, field: 'proposals' | 'verdicts'): Outcome[] => {
    checkInputBounds(input, 'input');
    let doc: Record<string, unknown>;
    try {
      doc = evaluatePolicies(policy, input, where);
    } catch (err) {
      // one entrypoint evaluates every package: its failure is every package's (DESIGN §4.8)
      return [...policies.values()].map((p) => ({ policy: p, failure: (err as Error).message }));
    }
    return Object.keys(doc)
      .sort()
      .flatMap((name): Outcome[] => {
        const pkg = doc[name];
        const value = isRecord(pkg) ? pkg[field] : undefined;
        if (value === undefined) return [];
        if (!Array.isArray(value)) return [{ policy: policyOf(name), failure: `${field} must be a set or an array of objects` }];
        return [{ policy: policyOf(name), members: value.map((v) => ({ value: v })) }];
      });
  };
  const report = (errors: PolicyError[] | undefined, p: RegoPolicy, phase: PolicyError['phase'], message: string): void => {
    errors?.push({ policy: p.name, phase, message, source: { file: where } });
  };

  return {
    name: 'wasm',
    policies: names,
    propose(input: PolicyInput, errors?: PolicyError[]): Proposal[] {
      return collect({ diagnosis: input.diagnosis, context: input.context }, 'proposals').flatMap((o) => {
        if ('members' in o) return toProposals(o.policy, o.members, errors);
        report(errors, o.policy, 'propose', o.failure);
        return [];
      });
    },
    judge(input: PolicyInput & { action: Action }, errors?: PolicyError[]): Verdict[] {
      return collect(input, 'verdicts').flatMap((o) => {
        if ('members' in o) return toVerdicts(o.policy, o.members, errors);
        report(errors, o.policy, 'judge', o.failure);
        return [failedPolicyVerdict(o.policy, o.failure, { file: where })];
      });
    },
  };
}
