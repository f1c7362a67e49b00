// Which metric proves an action worked (issue 15 item 6): the first metric of the action's preference list that the
// diagnosis actually measured, so a memory leak is verified on memory, not on an error rate nobody reported. When the
// diagnosis carries none of them, the action's default metric is kept and a note says so.
import type { ActionKind } from '../engine/types.ts';
import type { VerificationSpec } from './types.ts';

/** Per action, the metrics that show recovery, most telling first (all improve by decreasing). */
export const VERIFICATION_PREFERENCES: Readonly<Record<ActionKind, readonly string[]>> = {
  restart: ['memoryWorkingSetBytes', 'restartCount', 'errorRate', 'latencyP99Ms'],
  rollback: ['errorRate', 'latencyP99Ms'],
  'patch-image': ['errorRate', 'latencyP99Ms'],
  scale: ['latencyP99Ms', 'cpuUtilization', 'errorRate'],
  'set-config': ['poolUtilization', 'waitingRequests', 'errorRate', 'latencyP99Ms'],
  'shift-traffic': ['canaryLatencyP99Ms', 'latencyP99Ms', 'errorRate'],
};

export interface VerificationChoice {
  spec: VerificationSpec;
  /** Set when the diagnosis measured none of the preferred metrics (or none that can be queried). */
  note?: string;
}

/**
 * The verification for `kind`: its preference list intersected with the diagnosis's numeric signals (and, when
 * given, with the metrics that have a query configured), else `fallback` (the action's default) with a note.
 */
export function chooseVerification(kind: ActionKind, fallback: VerificationSpec, signals: Record<string, unknown> | undefined, configured?: readonly string[]): VerificationChoice {
  const preferences = VERIFICATION_PREFERENCES[kind] ?? [];
  const measured = (name: string): boolean => {
    const v = signals && Object.prototype.hasOwnProperty.call(signals, name) ? signals[name] : undefined;
    return typeof v === 'number' && Number.isFinite(v);
  };
  const queryable = (name: string): boolean => configured === undefined || configured.includes(name);
  const metric = preferences.find((m) => measured(m) && queryable(m));
  if (metric) return { spec: { ...fallback, metric, direction: 'decrease' } };
  return {
    spec: fallback,
    note: `the diagnosis measured none of ${preferences.join(', ')}${configured ? ' with a configured query' : ''}: verifying ${kind}'s default metric ${fallback.metric}`,
  };
}
