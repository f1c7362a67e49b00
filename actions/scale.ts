// scale: set the replica floor where the cluster takes it from — Helm values, an HPA's minReplicas, the
// overlay's `replicas:` entry, or the workload's spec.replicas — clamped to the catalog's bounds.replicas.
import { isMap, isScalar, isSeq } from 'yaml';
import { z } from 'zod';
import type { Action } from '../engine/types.ts';
import { clampToBound } from './bounds.ts';
import { invertEdits } from './compensation.ts';
import { DEFAULT_ENVIRONMENT, EditSet, findResources, findWorkload, loadServiceManifests, overlayFor } from './manifests.ts';
import type { ServiceManifests } from './manifests.ts';
import type { ActionDefinition, Plan, PlanInput } from './types.ts';
import { PlanRefusedError } from './types.ts';
import { nodeAt, scalarAt, setScalarAt, stringAt } from './yaml-edit.ts';
import type { Splice } from './yaml-edit.ts';

const params = z
  .object({
    replicas: z.number().int().min(0).max(10_000).optional(),
    /** Relative change: +50 → 1.5 × current, −25 → 0.75 × current (rounded up). */
    percent: z.number().gt(-100).max(1_000).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.replicas === undefined && p.percent === undefined) ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'give replicas or percent' });
    if (p.replicas !== undefined && p.percent !== undefined) ctx.addIssue({ code: 'custom', path: ['percent'], message: 'give replicas or percent, not both' });
  });

/** One place that holds the replica count, and how to set it. */
interface ReplicaSite {
  path: string;
  source: string;
  current: number | undefined;
  label: string;
  set(value: number): Array<Splice | null>;
}

function numberAt(node: unknown, keys: string[]): number | undefined {
  const v = scalarAt(node, keys)?.value;
  return typeof v === 'number' ? v : undefined;
}

function replicaSite(m: ServiceManifests, action: Action, environment: string, raised: string[]): ReplicaSite {
  const values = m.helmValues.find((v) => v.path.endsWith(`values-${environment}.yaml`) && nodeAt(v.doc.contents, ['replicaCount']))
    ?? m.helmValues.find((v) => /\/values\.ya?ml$/.test(v.path));
  const workload = findWorkload(m, action.target.service, action.target.namespace, environment);
  if (values && !workload) {
    const root = values.doc.contents;
    const autoscaled = scalarAt(root, ['autoscaling', 'enabled'])?.value === true;
    const keys = autoscaled ? ['autoscaling', 'minReplicas'] : ['replicaCount'];
    return {
      path: values.path, source: values.source, current: numberAt(root, keys), label: `${keys.join('.')} in ${values.path}`,
      set: (n) => {
        const splices = [setScalarAt(values.source, root, keys, n)];
        const max = numberAt(root, ['autoscaling', 'maxReplicas']);
        if (autoscaled && max !== undefined && n > max) {
          splices.push(setScalarAt(values.source, root, ['autoscaling', 'maxReplicas'], n));
          raised.push(`autoscaling.maxReplicas raised from ${max} to ${n} to stay above the new floor`);
        }
        return splices;
      },
    };
  }
  if (!workload) throw new PlanRefusedError(`no Deployment, StatefulSet or Helm values for ${action.target.service} under ${m.paths.join(', ')}`);
  const hpa = findResources(m, ['HorizontalPodAutoscaler'], undefined, action.target.namespace, environment).find(
    (h) => stringAt(h.doc.contents, ['spec', 'scaleTargetRef', 'name']) === workload.name
      && (stringAt(h.doc.contents, ['spec', 'scaleTargetRef', 'kind']) ?? workload.kind) === workload.kind,
  );
  if (hpa) {
    const root = hpa.doc.contents;
    return {
      path: hpa.path, source: hpa.source, current: numberAt(root, ['spec', 'minReplicas']) ?? 1,
      label: `HorizontalPodAutoscaler ${hpa.name} minReplicas in ${hpa.path}`,
      set: (n) => {
        const splices = [setScalarAt(hpa.source, root, ['spec', 'minReplicas'], n)];
        const max = numberAt(root, ['spec', 'maxReplicas']);
        if (max !== undefined && n > max) {
          splices.push(setScalarAt(hpa.source, root, ['spec', 'maxReplicas'], n));
          raised.push(`HorizontalPodAutoscaler ${hpa.name} maxReplicas raised from ${max} to ${n} to stay above the new floor`);
        }
        return splices;
      },
    };
  }
  const overlay = overlayFor(m, environment);
  const entries = overlay && isMap(overlay.doc.contents) ? overlay.doc.contents.get('replicas', true) : undefined;
  const entry = isSeq(entries) ? entries.items.find((i) => stringAt(i, ['name']) === workload.name) : undefined;
  if (overlay && entry && isScalar(nodeAt(entry, ['count']))) {
    return {
      path: overlay.path, source: overlay.source, current: numberAt(entry, ['count']),
      label: `replicas entry for ${workload.name} in ${overlay.path}`,
      set: (n) => [setScalarAt(overlay.source, entry, ['count'], n)],
    };
  }
  return {
    path: workload.path, source: workload.source, current: numberAt(workload.doc.contents, ['spec', 'replicas']) ?? 1,
    label: `${workload.kind} ${workload.name} spec.replicas in ${workload.path}`,
    set: (n) => [setScalarAt(workload.source, workload.doc.contents, ['spec', 'replicas'], n)],
  };
}

export const scale: ActionDefinition<typeof params> = {
  kind: 'scale',
  params,
  risk: 'low',
  verification: { metric: 'latencyP99Ms', direction: 'decrease', window: '15m' },
  describe: (action) =>
    typeof action.params.replicas === 'number'
      ? `scale to ${action.params.replicas} replicas`
      : `scale by ${Number(action.params.percent) >= 0 ? '+' : ''}${action.params.percent}%`,
  async plan(input: PlanInput): Promise<Plan> {
    const { tree, action, service } = input;
    const p = params.parse(action.params);
    const environment = input.environment ?? DEFAULT_ENVIRONMENT;
    const m = loadServiceManifests(tree, service.paths);
    const notes: string[] = [];
    const raised: string[] = [];
    const site = replicaSite(m, action, environment, raised);
    let requested: number;
    if (p.replicas !== undefined) requested = p.replicas;
    else {
      if (site.current === undefined) throw new PlanRefusedError(`cannot scale by percent: no current replica count in ${site.label}`);
      requested = Math.ceil((site.current * (100 + p.percent!)) / 100);
      notes.push(`${p.percent}% of ${site.current} current replicas → ${requested}`);
    }
    // without catalog bounds arbiter never picks a replica count: 10 000 replicas or 0 are both outages
    const bound = service.bounds?.replicas;
    if (bound?.max === undefined) throw new PlanRefusedError(`the catalog gives ${action.target.service} no bounds.replicas.max: arbiter does not scale a service without a ceiling`);
    if (bound.min === undefined && requested < 1) throw new PlanRefusedError(`scaling ${action.target.service} to ${requested} replicas would stop it, and the catalog gives no bounds.replicas.min`);
    const clamped = clampToBound(service, 'replicas', requested, 'replicas');
    if (clamped.note) notes.push(clamped.note);
    const edits = new EditSet();
    for (const s of site.set(clamped.value)) edits.add(site.path, site.source, s);
    notes.push(`${site.label}: ${site.current ?? 'unset'} → ${clamped.value}`, ...raised);
    return { edits: edits.edits(), notes, applied: { ...action, params: { replicas: clamped.value } } };
  },
  compensate: invertEdits,
};
