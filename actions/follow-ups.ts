// Temporary changes and staged rollouts (issue 5 item 6): which recorded follow-ups are due, and the plan
// that carries one out. Pure: the GitOps layer reads the ledger and writes the commits.
import type { Plan, PlanInput } from './types.ts';

export type FollowUp = NonNullable<Plan['followUp']>;

/** A follow-up as the ledger knows it: recorded by decision `decision`, maybe already settled. */
export interface RecordedFollowUp {
  /** The decision whose plan scheduled it. */
  decision: string;
  followUp: FollowUp;
  /** Set once carried out (the commit that did it) or cancelled (e.g. a failed verification in staging). */
  settled?: { outcome: 'done' | 'cancelled'; at: string; detail?: string };
}

/** Follow-ups whose `due` is at or before `now` and that are not settled, oldest due first. */
export function dueFollowUps(entries: RecordedFollowUp[], now: string): RecordedFollowUp[] {
  const t = Date.parse(now);
  return entries
    .filter((e) => !e.settled && Date.parse(e.followUp.due) <= t)
    .sort((a, b) => Date.parse(a.followUp.due) - Date.parse(b.followUp.due) || a.decision.localeCompare(b.decision));
}

/**
 * The planning input for carrying out a follow-up on the current tree: its action, planned like any other
 * (a `revert` restores the old value, a `promote` patches production). Staging is never re-entered.
 */
export function followUpInput(entry: RecordedFollowUp, base: Omit<PlanInput, 'action'>): PlanInput {
  return { ...base, action: entry.followUp.action, environment: entry.followUp.environment ?? base.environment };
}

/** How far after the decision a follow-up was scheduled: `revertAfter` or the validation period (never negative). */
export function followUpDelayMs(followUp: FollowUp, decidedAt: string): number {
  return Math.max(0, Date.parse(followUp.due) - Date.parse(decidedAt));
}

/** Where an approval-mode decision's change stands (its pull request), from the forge or from the target branch. */
export type ChangeState =
  | { state: 'merged'; at: string; commit: string; via: 'forge' | 'branch' }
  | { state: 'closed'; at: string | null }
  | { state: 'open'; detail: string };

/**
 * An approval-mode follow-up once its change is on the target branch: its clock starts at the merge, so
 * `due` = merge time + the delay it was scheduled with (the decision's `revertAfter` or validation period).
 */
export function followUpAfterMerge(entry: RecordedFollowUp, decidedAt: string, mergedAt: string): RecordedFollowUp {
  const delay = followUpDelayMs(entry.followUp, decidedAt);
  const due = new Date(Date.parse(mergedAt) + delay).toISOString().replace(/\.000Z$/, 'Z');
  return { ...entry, followUp: { ...entry.followUp, due } };
}

/**
 * What to do with an approval-mode follow-up. The branch is the evidence that the change applies (a follow-up planned
 * on a tree without the change would wrongly find it "already applied"); the forge adds the merge time and closure.
 */
export function resolveChange(onBranch: { commit: string; at: string } | undefined, forge: { merged: boolean; mergedAt: string | null; state: 'open' | 'closed'; closedAt: string | null; number: number } | undefined): ChangeState {
  if (onBranch) {
    if (forge?.merged && forge.mergedAt) return { state: 'merged', at: forge.mergedAt, commit: onBranch.commit, via: 'forge' };
    return { state: 'merged', at: onBranch.at, commit: onBranch.commit, via: 'branch' };
  }
  if (!forge) return { state: 'open', detail: 'awaiting the merge of its pull request' };
  if (forge.merged) return { state: 'open', detail: `pull request #${forge.number} is merged but its change is not on the target branch yet` };
  if (forge.state === 'closed') return { state: 'closed', at: forge.closedAt };
  return { state: 'open', detail: `awaiting the merge of pull request #${forge.number}` };
}
