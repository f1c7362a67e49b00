// A small stand-in for the decision core (engine/ + actions/) so gitops tests pin Git behaviour, not policy
// behaviour. Modes follow the gate defaults; `restart` stamps `restartedAt: <now>` into the service's deployment.
import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import type { BundleLike, DecisionCore } from '../../app/core.ts';
import { InputError } from '../../engine/errors.ts';
import { Catalog, CatalogService, Diagnosis, type ActingMode, type Context, type Decision } from '../../engine/types.ts';
import type { ActionDefinition, Plan } from '../../actions/types.ts';

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Record<string, unknown>)[k])]));
  return value;
}

export const stubBundle: BundleLike = {
  revision: 'stub-1',
  digest: 'sha256:stub',
  settings: { guardrails: { circuitCooldownMinutes: 30 } },
  data: {},
};

const restart: ActionDefinition = {
  kind: 'restart',
  params: undefined as never,
  risk: 'low',
  describe: () => 'restart deployment',
  async plan() {
    throw new Error('use planAction');
  },
  compensate: () => [],
  verification: { metric: 'errorRate', direction: 'decrease', window: '10m' },
};

export interface StubOptions {
  /** Force a mode instead of the gate. */
  mode?: ActingMode;
  /** Make the plan also write this path (to test the blast-radius check). */
  extraEdit?: string;
}

export function stubCore(options: StubOptions = {}): DecisionCore & { contexts: Context[] } {
  const contexts: Context[] = [];
  return {
    contexts,
    parseDiagnosis(text, source) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new InputError('not JSON', source);
      }
      const r = Diagnosis.safeParse(value);
      if (!r.success) throw new InputError(r.error.issues[0]!.message, `${source}: ${r.error.issues[0]!.path.join('.')}`);
      return r.data;
    },
    parseContextOverride: (text) => JSON.parse(text),
    loadBundle: async () => stubBundle,
    parseCatalog: (text) => Catalog.parse(parse(text)),
    parseCalendar: (text) => parse(text),
    assembleContext({ diagnosis, now, catalog, history, killSwitch, override }) {
      const entry = catalog?.services[diagnosis.target.service];
      const context: Context = {
        now,
        service: { name: diagnosis.target.service, namespace: entry?.namespace, criticality: entry?.criticality ?? 'medium', owners: entry?.owners ?? [] },
        calendar: { businessHours: false, maintenanceWindow: false, changeFreeze: false, peakEvent: null },
        history: history ?? { incidentActions: 0, serviceActionsLastHour: 0, circuitOpen: false },
        killSwitch: killSwitch ?? false,
        ...(override as object | undefined),
      };
      contexts.push(context);
      return { context, service: entry ?? CatalogService.parse({}), known: entry !== undefined };
    },
    decide({ diagnosis, context, bundle }): Decision {
      const top = [...diagnosis.hypotheses].sort((a, b) => b.confidence - a.confidence)[0]!;
      const suggested = top.suggestedActions?.[0];
      const target = { service: diagnosis.target.service, namespace: context.service.namespace ?? diagnosis.target.namespace ?? 'default' };
      const action = suggested ? { kind: suggested.kind, target, params: suggested.params ?? {} } : null;
      let mode: ActingMode = options.mode ?? (!action ? 'escalate' : top.confidence >= 0.85 ? 'auto' : top.confidence >= 0.65 ? 'notify' : 'approval');
      if (context.killSwitch && (mode === 'auto' || mode === 'notify')) mode = 'approval';
      const keyBody = sorted({ incident: diagnosis.incident, kind: action?.kind ?? 'escalate', target, params: action?.params ?? {} });
      const idempotencyKey = `sha256:${createHash('sha256').update(JSON.stringify(keyBody)).digest('hex')}`;
      return {
        apiVersion: 'arbiter.dev/v1',
        kind: 'Decision',
        id: `dec-${createHash('sha256').update(JSON.stringify({ d: diagnosis.id, now: context.now })).digest('hex').slice(0, 16)}`,
        idempotencyKey,
        incident: diagnosis.incident,
        diagnosis: diagnosis.id,
        decidedAt: context.now,
        mode,
        action,
        support: top.confidence,
        target,
        candidates: action ? [{ action, proposedBy: ['stub'], effect: 'allow', support: top.confidence, pSuccess: 0.8, expectedCost: 10, verdicts: [{ policy: 'stub', effect: 'allow', priority: 0, weight: 1, cost: 0, reason: 'stub allows' }] }] : [],
        resolution: { combine: 'priority', select: 'cost', winner: action ? action.kind : 'escalate', overruled: [] },
        guardrails: [{ name: 'kill-switch', applied: context.killSwitch, detail: context.killSwitch ? 'paused' : 'not paused' }],
        bundle: { revision: bundle.revision, digest: bundle.digest },
        rationale: [`${top.cause} with confidence ${top.confidence}`],
      };
    },
    async planAction({ tree, action, service, context }): Promise<Plan> {
      const edits: Plan['edits'] = [];
      for (const path of service.paths.flatMap((p) => tree.list(p))) {
        const before = tree.read(path)!;
        if (!before.includes('kind: Deployment')) continue;
        const after = before.replace(/restartedAt: .*\n|$/, `restartedAt: ${context.now}\n`);
        if (after !== before) edits.push({ path, before, after });
      }
      if (options.extraEdit) edits.push({ path: options.extraEdit, before: null, after: 'x: 1\n' });
      return { edits, notes: ['stub plan'], applied: action };
    },
    getAction: () => restart,
  };
}

export const CATALOG = `services:
  checkout:
    namespace: shop
    criticality: high
    owners: [alice, shop/team-checkout]
    paths: [apps/checkout/]
    bounds: { replicas: { min: 2, max: 20 } }
  payments:
    namespace: shop
    paths: [apps/payments/]
`;

export const SHOP_FILES: Record<string, string> = {
  '.arbiter/catalog.yaml': CATALOG,
  'apps/checkout/deployment.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout\n',
  'apps/payments/deployment.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: payments\n',
  'apps/other/deployment.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: other\n',
};

export function diagnosis(overrides: { id?: string; incident?: string; service?: string; confidence?: number; kind?: string | null } = {}): Diagnosis {
  const kind = overrides.kind === undefined ? 'restart' : overrides.kind;
  return {
    apiVersion: 'arbiter.dev/v1',
    kind: 'Diagnosis',
    id: overrides.id ?? 'diag-1',
    incident: overrides.incident ?? 'INC-1',
    observedAt: '2026-11-21T02:10:00Z',
    source: 'heuristics',
    target: { service: overrides.service ?? 'checkout', namespace: 'shop' },
    hypotheses: [
      {
        cause: 'memory-leak',
        confidence: overrides.confidence ?? 0.9,
        evidence: ['RSS grows 40 MB/h since 1.4.2', 'OOMKilled 3 times in 1h'],
        ...(kind ? { suggestedActions: [{ kind: kind as 'restart' }] } : {}),
      },
    ],
  } as Diagnosis;
}
