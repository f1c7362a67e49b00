// restart: what `kubectl rollout restart` does, as a commit — stamp the pod template with `context.now`.
import { z } from 'zod';
import { invertEdits } from './compensation.ts';
import { DEFAULT_ENVIRONMENT, EditSet, findWorkload, loadServiceManifests } from './manifests.ts';
import type { ActionDefinition, Plan, PlanInput } from './types.ts';
import { PlanRefusedError } from './types.ts';
import { setScalarAt } from './yaml-edit.ts';

export const RESTARTED_AT = 'arbiter.dev/restartedAt';

const params = z.object({}).strict();

export const restart: ActionDefinition<typeof params> = {
  kind: 'restart',
  params,
  risk: 'low',
  verification: { metric: 'errorRate', direction: 'decrease', window: '10m' },
  describe: (action) => `restart deployment ${action.target.service}`,
  async plan(input: PlanInput): Promise<Plan> {
    const { tree, action, service, context } = input;
    const environment = input.environment ?? DEFAULT_ENVIRONMENT;
    const m = loadServiceManifests(tree, service.paths);
    const workload = findWorkload(m, action.target.service, action.target.namespace, environment);
    if (!workload) throw new PlanRefusedError(`no Deployment or StatefulSet for ${action.target.service} under ${m.paths.join(', ')}`);
    const edits = new EditSet();
    const keys = ['spec', 'template', 'metadata', 'annotations', RESTARTED_AT];
    edits.add(workload.path, workload.source, setScalarAt(workload.source, workload.doc.contents, keys, context.now));
    const notes = [`${workload.kind} ${workload.name} in ${workload.path}: pod template annotated ${RESTARTED_AT}=${context.now}`];
    const overlays = m.kustomizations.filter((k) => k.overlay);
    if (overlays.length > 1 && !overlays.some((k) => workload.path.startsWith(`${k.dir}/`))) {
      notes.push(`the annotation is in the shared base: every overlay (${overlays.map((k) => k.environment).join(', ')}) restarts`);
    }
    return {
      edits: edits.edits(),
      notes,
      applied: action,
    };
  },
  compensate: invertEdits,
};
