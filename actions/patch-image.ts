// patch-image: move the service's image to a new tag of the same repository — the overlay's `images:` entry
// where Kustomize is used, else the container image or Helm `image.tag`. Staged: staging first, production
// as a follow-up once the validation period has passed (DESIGN §5, issue 5 item 6).
import { isMap, isSeq } from 'yaml';
import type { Scalar } from 'yaml';
import { z } from 'zod';
import { Dns1123Label } from '../engine/types.ts';
import type { Action } from '../engine/types.ts';
import { invertEdits } from './compensation.ts';
import { addDuration, durationMs } from './duration.ts';
import { parseImageRef, sameRepository } from './image-ref.ts';
import { DEFAULT_ENVIRONMENT, EditSet, findResources, loadServiceManifests, overlayFor } from './manifests.ts';
import type { ManifestDoc, ServiceManifests } from './manifests.ts';
import type { ActionDefinition, Plan, PlanInput } from './types.ts';
import { PlanRefusedError } from './types.ts';
import { appendToSeq, childOf, insertIntoMap, renderScalar, replaceScalar, scalarAt, setScalarAt, stringAt } from './yaml-edit.ts';

export const STAGING_ENVIRONMENT = 'staging';
export const DEFAULT_VALIDATION_PERIOD = '48h';

const params = z
  .object({
    image: z
      .string()
      .max(512)
      .refine((s) => /^[a-z0-9][a-z0-9._\-/:]*$/.test(parseImageRef(s).repository) && !!parseImageRef(s).tag && !s.includes('@'), 'must be repository:tag, e.g. registry.example.com/shop/checkout:1.4.3')
      .refine((s) => /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(parseImageRef(s).tag ?? ''), 'the tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}'),
    container: Dns1123Label.optional(),
    /** Patch this environment directly; absent = staged (staging overlay first, when there is one). */
    environment: Dns1123Label.optional(),
  })
  .strict();

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicaSet', 'Pod'];

/** Every container scalar `image:` of the service's workloads, with the container's name. */
function containerImages(docs: ManifestDoc[]) {
  const out: Array<{ doc: ManifestDoc; container: string; node: Scalar }> = [];
  for (const doc of docs) {
    const root = doc.doc.contents;
    const specs = [
      childOf(root, 'spec'),
      childOf(childOf(childOf(root, 'spec'), 'template'), 'spec'),
      childOf(childOf(childOf(childOf(childOf(childOf(root, 'spec'), 'jobTemplate'), 'spec'), 'template'), 'spec'), 'spec'),
    ];
    for (const spec of specs) {
      for (const list of ['containers', 'initContainers']) {
        const seq = childOf(spec, list);
        for (const c of isSeq(seq) ? seq.items : []) {
          const node = scalarAt(c, ['image']);
          if (node && typeof node.value === 'string') out.push({ doc, container: stringAt(c, ['name']) ?? '', node });
        }
      }
    }
  }
  return out;
}

function planImage(m: ServiceManifests, action: Action, environment: string, repository: string, tag: string, container: string | undefined, explicitEnv: boolean) {
  const edits = new EditSet();
  const notes: string[] = [];
  const workloads = findResources(m, WORKLOAD_KINDS, undefined, action.target.namespace, environment);
  const containers = containerImages(workloads).filter((c) => !container || c.container === container);
  const seen = [...new Set(containers.map((c) => parseImageRef(c.node.value as string).repository))];
  const refuseSwitch = (where: string): never => {
    throw new PlanRefusedError(
      `patch-image never switches repository: ${repository} is not used by ${where}${seen.length ? ` (found ${seen.join(', ')})` : ''}`,
    );
  };
  if (container && containers.length === 0) throw new PlanRefusedError(`no container named ${container} under ${m.paths.join(', ')}`);
  const overlay = overlayFor(m, environment);
  if (!overlay && explicitEnv && m.kustomizations.some((k) => k.overlay)) {
    throw new PlanRefusedError(`no Kustomize overlay for environment ${environment} under ${m.paths.join(', ')}`);
  }
  if (overlay) {
    const root = overlay.doc.contents;
    const images = childOf(root, 'images');
    for (const entry of isSeq(images) ? images.items.filter(isMap) : []) {
      const name = stringAt(entry, ['name']) ?? '';
      const effective = stringAt(entry, ['newName']) ?? name;
      if (sameRepository(effective, repository)) {
        if (scalarAt(entry, ['digest'])) throw new PlanRefusedError(`${overlay.path} pins ${effective} by digest; a tag patch would be ignored`);
        edits.add(overlay.path, overlay.source, setScalarAt(overlay.source, entry, ['newTag'], tag));
        notes.push(`${overlay.path}: images entry ${effective} newTag → ${tag}`);
        return { edits, notes };
      }
      if (sameRepository(name, repository)) refuseSwitch(`${overlay.path}, whose images entry renames it to ${effective}`);
    }
    if (!containers.some((c) => sameRepository(parseImageRef(c.node.value as string).repository, repository))) refuseSwitch(`any container of ${action.target.service}`);
    // the base image is shared by every environment: pin this environment in its own overlay
    const fields: Array<[string, string]> = [['name', repository], ['newTag', tag]];
    if (isSeq(images) && images.items.length > 0 && !images.flow) edits.add(overlay.path, overlay.source, appendToSeq(overlay.source, images, fields));
    else if (!images && isMap(root)) {
      edits.add(overlay.path, overlay.source, insertIntoMap(overlay.source, root, ['images'], [`- name: ${renderScalar(repository)}`, `  newTag: ${renderScalar(tag)}`], [{ name: repository, newTag: tag }]));
    } else throw new PlanRefusedError(`${overlay.path}: cannot add an images entry to its images field`);
    notes.push(`${overlay.path}: new images entry ${repository} newTag ${tag}`);
    return { edits, notes };
  }
  let matched = 0;
  for (const values of m.helmValues) {
    const repo = stringAt(values.doc.contents, ['image', 'repository']);
    if (repo === undefined) continue;
    if (!sameRepository(repo, repository)) continue;
    matched++;
    edits.add(values.path, values.source, setScalarAt(values.source, values.doc.contents, ['image', 'tag'], tag));
    notes.push(`${values.path}: image.tag → ${tag}`);
  }
  for (const c of containers) {
    const ref = parseImageRef(c.node.value as string);
    if (!sameRepository(ref.repository, repository)) continue;
    matched++;
    edits.add(c.doc.path, c.doc.source, replaceScalar(c.doc.source, c.node, `${ref.repository}:${tag}`));
    notes.push(`${c.doc.kind} ${c.doc.name} container ${c.container} in ${c.doc.path}: ${c.node.value} → ${ref.repository}:${tag}${ref.digest ? ' (digest pin dropped)' : ''}`);
  }
  if (matched === 0) {
    const helmRepos = m.helmValues.map((v) => stringAt(v.doc.contents, ['image', 'repository'])).filter((r): r is string => !!r);
    seen.push(...helmRepos);
    refuseSwitch(`any container or Helm values of ${action.target.service}`);
  }
  return { edits, notes };
}

export const patchImage: ActionDefinition<typeof params> = {
  kind: 'patch-image',
  params,
  risk: 'high',
  verification: { metric: 'errorRate', direction: 'decrease', window: '30m' },
  describe: (action) => {
    const { tag } = parseImageRef(String(action.params.image));
    return `patch image to ${tag}${action.params.environment ? ` in ${action.params.environment}` : ''}`;
  },
  async plan(input: PlanInput): Promise<Plan> {
    const { tree, action, service, context } = input;
    const p = params.parse(action.params);
    const { repository, tag } = parseImageRef(p.image);
    const m = loadServiceManifests(tree, service.paths);
    const production = input.environment ?? DEFAULT_ENVIRONMENT;
    const staged = !p.environment && !!overlayFor(m, STAGING_ENVIRONMENT) && production !== STAGING_ENVIRONMENT;
    const environment = p.environment ?? (staged ? STAGING_ENVIRONMENT : production);
    const { edits, notes } = planImage(m, action, environment, repository, tag!, p.container, !!p.environment);
    if (!p.environment && !staged) notes.push(`no ${STAGING_ENVIRONMENT} overlay: patched ${environment} directly`);
    const applied: Action = { ...action, params: { image: p.image, ...(p.container ? { container: p.container } : {}), environment } };
    const plan: Plan = { edits: edits.edits(), notes, applied };
    if (staged && plan.edits.length > 0) {
      const period = validationPeriod(input.settings);
      const due = addDuration(context.now, durationMs(period)!);
      plan.followUp = {
        kind: 'promote',
        due,
        action: { kind: 'patch-image', target: action.target, params: { image: p.image, ...(p.container ? { container: p.container } : {}), environment: production } },
        detail: `promote ${p.image} to ${production} at ${due} if verification in ${STAGING_ENVIRONMENT} has not failed (validation period ${period})`,
        environment: production,
      };
      notes.push(`staged rollout: ${STAGING_ENVIRONMENT} now, ${production} after ${period} (${due})`);
    }
    return plan;
  },
  compensate: invertEdits,
};

/** `settings.stagedRollout.validationPeriod` from the bundle, else 48h. */
export function validationPeriod(settings: Record<string, unknown> | undefined): string {
  const staged = settings?.stagedRollout;
  const period = staged && typeof staged === 'object' ? (staged as Record<string, unknown>).validationPeriod : undefined;
  if (period === undefined) return DEFAULT_VALIDATION_PERIOD;
  if (typeof period !== 'string' || durationMs(period) === undefined) {
    throw new PlanRefusedError(`settings.stagedRollout.validationPeriod must be a duration such as 48h, got ${JSON.stringify(period)}`);
  }
  return period;
}

