// `arbiter.yaml`: a bundle's engine settings. Every key is optional; the defaults are DESIGN §4's.
import { z } from 'zod';
import { ActionKind, Effects } from './types.ts';

const Share = z.number().min(0).max(1);

export const GateThresholds = z.object({ auto: Share.optional(), notify: Share.optional() }).strict();

export const BundleSettings = z
  .object({
    resolution: z
      .object({
        combine: z.enum(['priority', 'deny-overrides', 'majority', 'first-applicable']).default('priority'),
        select: z.enum(['cost', 'support']).default('cost'),
        default: z.enum(Effects).default('escalate'),
      })
      .strict()
      .prefault({}),
    gates: z
      .object({
        auto: Share.default(0.85),
        notify: Share.default(0.65),
        perAction: z.partialRecord(ActionKind, GateThresholds).default({}),
      })
      .strict()
      .prefault({}),
    guardrails: z
      .object({
        maxActionsPerIncident: z.number().int().min(0).default(8),
        serviceActionsPerHour: z.number().int().min(0).default(3),
        circuitCooldownMinutes: z.number().min(0).default(30),
        /** The kill switch set in configuration (the other source is `.arbiter/pause` in the GitOps repo). */
        killSwitch: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    mode: z.enum(['live', 'shadow']).default('live'),
    /** How many first-parent commits of the target branch rollback searches (for `toRevision` and the culprit). */
    rollback: z
      .object({ historyDepth: z.number().int().min(1).max(100_000).default(1000) })
      .strict()
      .prefault({}),
  })
  .strict();
export type BundleSettings = z.infer<typeof BundleSettings>;

export const DEFAULT_SETTINGS: BundleSettings = BundleSettings.parse({});

/** The cost model of §4.4 (`data.arbiter.cost`); missing entries count as 0. */
export const CostModel = z
  .object({
    actionCost: z.record(z.string(), z.number()).default({}),
    incidentCostPerMinute: z.record(z.string(), z.number()).default({}),
    minutesUnresolved: z.number().min(0).default(0),
    effectiveness: z.record(z.string(), z.record(z.string(), z.number().min(0).max(1))).default({}),
  })
  .passthrough();
export type CostModel = z.infer<typeof CostModel>;
