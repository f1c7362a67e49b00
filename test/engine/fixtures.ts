// Shared builders for engine tests: diagnoses, contexts and a scripted policy backend.
import { DEFAULT_SETTINGS, type BundleSettings, type CostModel } from '../../engine/settings.ts';
import type { DecisionBundle } from '../../engine/decide.ts';
import type { Action, Context, Diagnosis, Effect, PolicyBackend, Proposal, Verdict } from '../../engine/types.ts';

export const COST: CostModel = {
  actionCost: { restart: 20, rollback: 30, scale: 10, 'shift-traffic': 5, 'set-config': 15, 'patch-image': 40 },
  incidentCostPerMinute: { critical: 1000, high: 300, medium: 100, low: 20 },
  minutesUnresolved: 47,
  effectiveness: { rollback: { 'bad-deployment': 0.95 }, restart: { 'memory-leak': 0.85 } },
};

export function diagnosis(over: Partial<Diagnosis> = {}): Diagnosis {
  return {
    apiVersion: 'arbiter.dev/v1',
    kind: 'Diagnosis',
    id: 'd-1',
    incident: 'INC-1',
    observedAt: '2026-11-21T02:13:00Z',
    target: { service: 'checkout', namespace: 'shop' },
    hypotheses: [{ cause: 'memory-leak', confidence: 0.9 }],
    ...over,
  };
}

export function context(over: { [K in keyof Context]?: Partial<Context[K]> } = {}): Context {
  return {
    now: (over.now as string | undefined) ?? '2026-11-21T02:13:00Z',
    service: { name: 'checkout', namespace: 'shop', criticality: 'high', owners: [], ...over.service },
    calendar: { businessHours: false, maintenanceWindow: false, changeFreeze: false, peakEvent: null, ...over.calendar },
    history: { incidentActions: 0, serviceActionsLastHour: 0, circuitOpen: false, ...over.history },
    killSwitch: (over.killSwitch as boolean | undefined) ?? false,
  };
}

export function verdict(policy: string, effect: Effect, over: Partial<Verdict> = {}): Verdict {
  return { policy, effect, priority: 0, weight: 1, cost: 0, reason: `${policy} says ${effect}`, ...over };
}

/** A backend that proposes fixed actions and returns fixed verdicts per action kind. */
export function scriptedBackend(proposals: Array<Omit<Proposal, 'policy'> & { policy?: string }>, verdicts: Partial<Record<Action['kind'], Verdict[]>>): PolicyBackend {
  return {
    name: 'cel',
    policies: [...new Set([...proposals.map((p) => p.policy ?? 'proposer'), ...Object.values(verdicts).flatMap((vs) => (vs ?? []).map((v) => v.policy))])].sort(),
    propose: () => proposals.map((p) => ({ policy: 'proposer', ...p })),
    judge: ({ action }) => verdicts[action.kind] ?? [],
  };
}

export function bundleWith(backends: PolicyBackend[], settings: Partial<BundleSettings> = {}, cost: CostModel = COST): DecisionBundle {
  return { revision: 'test-1', digest: 'sha256:00', settings: { ...DEFAULT_SETTINGS, ...settings }, cost, backends };
}
