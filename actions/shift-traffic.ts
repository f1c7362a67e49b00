// shift-traffic: set the Istio VirtualService route weights — canary subset to `canaryWeight`, stable to the rest.
import { isMap, isSeq } from 'yaml';
import { z } from 'zod';
import { invertEdits } from './compensation.ts';
import { DEFAULT_ENVIRONMENT, EditSet, findResources, loadServiceManifests } from './manifests.ts';
import type { ActionDefinition, Plan, PlanInput } from './types.ts';
import { PlanRefusedError } from './types.ts';
import { childOf, setScalarAt, stringAt } from './yaml-edit.ts';

export const STABLE_SUBSET = 'stable';
export const CANARY_SUBSET = 'canary';

const params = z.object({ canaryWeight: z.number().int().min(0).max(100).default(0) }).strict();

export const shiftTraffic: ActionDefinition<typeof params> = {
  kind: 'shift-traffic',
  params,
  risk: 'low',
  verification: { metric: 'errorRate', direction: 'decrease', window: '5m' },
  describe: (action) => {
    const canary = typeof action.params.canaryWeight === 'number' ? action.params.canaryWeight : 0;
    return canary === 0 ? 'shift all traffic to stable' : `shift ${canary}% of traffic to canary`;
  },
  async plan(input: PlanInput): Promise<Plan> {
    const { tree, action, service } = input;
    const { canaryWeight } = params.parse(action.params);
    const m = loadServiceManifests(tree, service.paths);
    const environment = input.environment ?? DEFAULT_ENVIRONMENT;
    const all = findResources(m, ['VirtualService'], undefined, action.target.namespace, environment);
    const vs = all.find((r) => r.name === action.target.service) ?? (all.length === 1 ? all[0] : undefined);
    if (!vs) throw new PlanRefusedError(`no Istio VirtualService for ${action.target.service} under ${m.paths.join(', ')}`);
    const weights: Record<string, number> = { [STABLE_SUBSET]: 100 - canaryWeight, [CANARY_SUBSET]: canaryWeight };
    const edits = new EditSet();
    let routes = 0;
    const http = childOf(childOf(vs.doc.contents, 'spec'), 'http');
    for (const rule of isSeq(http) ? http.items : []) {
      const route = childOf(rule, 'route');
      if (!isSeq(route)) continue;
      const dests = route.items.filter(isMap);
      const subsets = dests.map((d) => stringAt(d, ['destination', 'subset']));
      if (!subsets.includes(CANARY_SUBSET) || !subsets.includes(STABLE_SUBSET)) continue;
      routes++;
      dests.forEach((d, i) => {
        const subset = subsets[i];
        if (subset === undefined || !(subset in weights)) return;
        edits.add(vs.path, vs.source, setScalarAt(vs.source, d, ['weight'], weights[subset]!));
      });
    }
    if (routes === 0) {
      throw new PlanRefusedError(`VirtualService ${vs.name} has no HTTP route with both "${STABLE_SUBSET}" and "${CANARY_SUBSET}" subsets`);
    }
    return {
      edits: edits.edits(),
      notes: [`VirtualService ${vs.name} in ${vs.path}: ${STABLE_SUBSET} ${weights[STABLE_SUBSET]}%, ${CANARY_SUBSET} ${canaryWeight}% on ${routes} route(s)`],
      applied: { ...action, params: { canaryWeight } },
    };
  },
  compensate: invertEdits,
};
