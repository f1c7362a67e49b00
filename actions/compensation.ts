// The inverse of a plan: the same files, before and after swapped (DESIGN §7 compensating commit).
import type { FileEdit, Plan } from './types.ts';

export function invertEdits(plan: Plan): FileEdit[] {
  return plan.edits.map((e) => ({ path: e.path, before: e.after, after: e.before }));
}
