// The action library (DESIGN §5): one definition per kind, and `planAction`, the single entry point that
// validates params, plans, and enforces the blast radius on whatever a definition returns.
import { ActionKinds } from '../engine/types.ts';
import type { ActionKind } from '../engine/types.ts';
import { InputError } from '../engine/errors.ts';
import { followUpInput } from './follow-ups.ts';
import type { RecordedFollowUp } from './follow-ups.ts';
import { assertInsidePaths, validateServicePaths } from './manifests.ts';
import { patchImage } from './patch-image.ts';
import { restart } from './restart.ts';
import { rollback } from './rollback.ts';
import { scale } from './scale.ts';
import { setConfig } from './set-config.ts';
import { shiftTraffic } from './shift-traffic.ts';
import type { ActionDefinition, Plan, PlanInput } from './types.ts';

export { checkRender, findKubectl } from './render.ts';
export type { RenderResult } from './render.ts';
export { dueFollowUps } from './follow-ups.ts';
export type { FollowUp, RecordedFollowUp } from './follow-ups.ts';
export { PlanRefusedError } from './types.ts';

const DEFINITIONS: Record<ActionKind, ActionDefinition> = {
  rollback,
  restart,
  scale,
  'shift-traffic': shiftTraffic,
  'set-config': setConfig,
  'patch-image': patchImage,
};

export const actionKinds: readonly ActionKind[] = ActionKinds;

export function getAction(kind: string): ActionDefinition {
  const def = (DEFINITIONS as Record<string, ActionDefinition | undefined>)[kind];
  if (!def) throw new InputError(`unknown action kind "${kind}" (one of ${actionKinds.join(', ')})`, 'action.kind');
  return def;
}

export async function planAction(input: PlanInput): Promise<Plan> {
  const def = getAction(input.action.kind);
  const parsed = def.params.safeParse(input.action.params ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? `action.params.${issue.path.join('.')}` : 'action.params';
    throw new InputError(issue.message, field);
  }
  const paths = validateServicePaths(input.service.paths);
  const plan = await def.plan({ ...input, action: { ...input.action, params: parsed.data as PlanInput['action']['params'] } });
  assertInsidePaths(plan.edits, paths);
  return { ...plan, edits: plan.edits.filter((e) => e.before !== e.after) };
}

/** The plan that carries out a recorded follow-up (scheduled revert or staged promotion) on the current tree. */
export function planFollowUp(entry: RecordedFollowUp, base: Omit<PlanInput, 'action'>): Promise<Plan> {
  return planAction(followUpInput(entry, base));
}
export { chooseVerification, VERIFICATION_PREFERENCES } from './verification.ts';
export type { VerificationChoice } from './verification.ts';
