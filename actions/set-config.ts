// set-config: change one ConfigMap key (a ConfigMap manifest or a Kustomize configMapGenerator literal),
// clamped to the catalog's bounds.<key>; `revertAfter` schedules the inverse change as a follow-up.
import { isMap, isScalar, isSeq } from 'yaml';
import { z } from 'zod';
import { K8sName } from '../engine/types.ts';
import { clampToBound } from './bounds.ts';
import { invertEdits } from './compensation.ts';
import { addDuration, Duration, durationMs } from './duration.ts';
import { DEFAULT_ENVIRONMENT, EditSet, findResources, loadServiceManifests } from './manifests.ts';
import type { ServiceManifests } from './manifests.ts';
import type { ActionDefinition, Plan, PlanInput } from './types.ts';
import { PlanRefusedError } from './types.ts';
import { childOf, replaceScalar, scalarAt, stringAt } from './yaml-edit.ts';
import type { Splice } from './yaml-edit.ts';

const params = z
  .object({
    configMap: K8sName,
    key: z.string().regex(/^[-._a-zA-Z0-9]{1,253}$/, 'must be a ConfigMap key ([-._a-zA-Z0-9]+)'),
    value: z.union([z.string().max(1024), z.number().finite(), z.boolean()]),
    revertAfter: Duration.optional(),
  })
  .strict();

const NUMERIC = /^-?\d+(\.\d+)?$/;

/** The longest `revertAfter` arbiter schedules: 30 days. */
const REVERT_AFTER_MAX_MS = 30 * 86_400_000;

/** Where the key lives and how to write a new value there. */
interface ConfigSite {
  path: string;
  source: string;
  current: string;
  set(value: string): Splice | null;
}

function configSite(m: ServiceManifests, configMap: string, key: string, namespace: string | undefined, environment: string): ConfigSite {
  const cm = findResources(m, ['ConfigMap'], configMap, namespace, environment)[0];
  if (cm) {
    const node = scalarAt(cm.doc.contents, ['data', key]);
    if (!node) throw new PlanRefusedError(`ConfigMap ${configMap} (${cm.path}) has no data key ${key}`);
    return { path: cm.path, source: cm.source, current: String(node.value ?? ''), set: (v) => replaceScalar(cm.source, node, v) };
  }
  // configMapGenerator literals: the environment's overlay first, then the base kustomizations
  const ordered = [...m.kustomizations].sort((a, b) => Number(b.environment === environment) - Number(a.environment === environment));
  for (const k of ordered.filter((k) => !k.overlay || k.environment === environment)) {
    const gens = childOf(k.doc.contents, 'configMapGenerator');
    for (const gen of isSeq(gens) ? gens.items : []) {
      if (!isMap(gen) || stringAt(gen, ['name']) !== configMap) continue;
      const literals = childOf(gen, 'literals');
      for (const lit of isSeq(literals) ? literals.items : []) {
        if (!isScalar(lit) || !String(lit.value).startsWith(`${key}=`)) continue;
        return {
          path: k.path, source: k.source, current: String(lit.value).slice(key.length + 1),
          set: (v) => replaceScalar(k.source, lit, `${key}=${v}`),
        };
      }
      throw new PlanRefusedError(`configMapGenerator ${configMap} (${k.path}) has no literal ${key}`);
    }
  }
  throw new PlanRefusedError(`no ConfigMap ${configMap} under ${m.paths.join(', ')}`);
}

export const setConfig: ActionDefinition<typeof params> = {
  kind: 'set-config',
  params,
  risk: 'medium',
  verification: { metric: 'poolUtilization', direction: 'decrease', window: '15m' },
  describe: (action) => {
    const p = action.params;
    return `set ${p.key}=${p.value} in ${p.configMap}${p.revertAfter ? ` for ${p.revertAfter}` : ''}`;
  },
  async plan(input: PlanInput): Promise<Plan> {
    const { tree, action, service, context } = input;
    const p = params.parse(action.params);
    const m = loadServiceManifests(tree, service.paths);
    const environment = input.environment ?? DEFAULT_ENVIRONMENT;
    const site = configSite(m, p.configMap, p.key, action.target.namespace, environment);
    const notes: string[] = [];
    let value = String(p.value);
    // a config value arbiter sets is one line of text: a control character (newline, NUL, escape) is never a fix
    if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) {
      throw new PlanRefusedError(`set-config value for ${p.key} contains a control character (${JSON.stringify(value.slice(0, 40))}): refused`);
    }
    if (typeof p.value === 'number' || NUMERIC.test(value)) {
      const clamped = clampToBound(service, p.key, Number(value), p.key);
      if (clamped.note) notes.push(clamped.note);
      value = String(clamped.value);
    }
    const edits = new EditSet();
    edits.add(site.path, site.source, site.current === value ? null : site.set(value));
    notes.push(`${p.configMap}.${p.key} in ${site.path}: ${site.current} → ${value}`);
    const applied = { ...action, params: { configMap: p.configMap, key: p.key, value, ...(p.revertAfter ? { revertAfter: p.revertAfter } : {}) } };
    const plan: Plan = { edits: edits.edits(), notes, applied };
    if (p.revertAfter && plan.edits.length > 0) {
      const ms = durationMs(p.revertAfter)!;
      // a temporary change lasts at least a minute (else it is no change) and at most REVERT_AFTER_MAX
      if (!(ms >= 60_000 && ms <= REVERT_AFTER_MAX_MS)) {
        throw new PlanRefusedError(`revertAfter ${p.revertAfter} is outside 1m..30d: a temporary change arbiter makes lasts between a minute and 30 days`);
      }
      const due = addDuration(context.now, ms);
      plan.followUp = {
        kind: 'revert',
        due,
        action: { kind: 'set-config', target: action.target, params: { configMap: p.configMap, key: p.key, value: site.current } },
        detail: `revert ${p.configMap}.${p.key} to ${site.current} at ${due} (revertAfter ${p.revertAfter})`,
        environment,
      };
      notes.push(`temporary: reverts to ${site.current} at ${due}`);
    }
    return plan;
  },
  compensate: invertEdits,
};
