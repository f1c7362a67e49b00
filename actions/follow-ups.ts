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
