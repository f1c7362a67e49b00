// The service's catalog entry (criticality, owners, paths, bounds) and the calendar evaluated now (business hours,
// maintenance window, change freeze, peak event), from `.arbiter/` on the GitOps branch.
import { z } from 'zod';
import { evaluateCalendar } from '../../engine/context.ts';
import { catalogAt, type RepositorySnapshot } from './repository.ts';
import type { InvestigationTool } from './tool.ts';

export function catalogTool(snapshot: RepositorySnapshot, service: string, now: () => Date): InvestigationTool<Record<string, never>> {
  return {
    name: 'service_catalog',
    description: `The catalog entry of service ${service} (criticality, owners, manifest paths, bounds) and the change calendar now (business hours, maintenance window, change freeze, peak event).`,
    input: z.object({}).strict(),
    async run() {
      const { catalog, calendar } = await catalogAt(snapshot);
      const entry = catalog?.services?.[service];
      return {
        service,
        catalog: entry ?? null,
        ...(entry ? {} : { note: catalog ? `${service} is not listed in .arbiter/catalog.yaml` : 'the repository has no .arbiter/catalog.yaml' }),
        calendar: { now: now().toISOString(), ...evaluateCalendar(calendar, now().toISOString()) },
      };
    },
  };
}
