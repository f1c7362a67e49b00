// Shared setup for the action tests: the shop fixture's catalog, a fixed clock and a one-line planner.
import { parse } from 'yaml';
import { planAction } from '../../actions/index.ts';
import type { Plan, PlanInput } from '../../actions/types.ts';
import type { ActionKind, ActionParams, CatalogService, Context } from '../../engine/types.ts';
import { CatalogService as CatalogServiceSchema } from '../../engine/types.ts';
import { shopTree } from './fixture-tree.ts';
import type { MemoryTree } from './fixture-tree.ts';

export const NOW = '2026-11-21T02:13:00Z';

export const context: Context = {
  now: NOW,
  service: { name: 'checkout', namespace: 'shop', criticality: 'high', owners: ['team-checkout'] },
  calendar: { businessHours: false, maintenanceWindow: false, changeFreeze: false, peakEvent: null },
  history: { incidentActions: 0, serviceActionsLastHour: 0, circuitOpen: false },
  killSwitch: false,
};

export function catalogOf(tree: MemoryTree): Record<string, CatalogService> {
  const raw = parse(tree.read('.arbiter/catalog.yaml')!) as { services: Record<string, unknown> };
  return Object.fromEntries(Object.entries(raw.services).map(([k, v]) => [k, CatalogServiceSchema.parse(v)]));
}

export interface PlanOptions extends Partial<Omit<PlanInput, 'action' | 'tree' | 'service'>> {
  tree?: MemoryTree;
  service?: CatalogService;
  namespace?: string;
}

export function plan(serviceName: string, kind: ActionKind, params: ActionParams = {}, options: PlanOptions = {}): Promise<Plan> {
  const tree = options.tree ?? shopTree();
  const service = options.service ?? catalogOf(tree)[serviceName]!;
  const { tree: _t, service: _s, namespace, ...rest } = options;
  return planAction({
    context,
    ...rest,
    tree,
    service,
    action: { kind, target: { service: serviceName, namespace: namespace ?? 'shop' }, params },
  });
}
