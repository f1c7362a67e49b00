// Shared pieces of the diagnosis-tier tests: a GitOps repository with a bad deployment in its history, an
// Alertmanager payload, a valid submission for it, and the shipped bundle's decision on a diagnosis.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDecisionInputs } from '../../bin/cli/decide.ts';
import { decide } from '../../engine/decide.ts';
import type { Decision, Diagnosis } from '../../engine/types.ts';
import { filesOf, seedBareRepository, tempDir } from '../support/git.ts';

export const SHOP = new URL('../fixtures/repos/shop', import.meta.url).pathname;

/** A bare repository: the shop fixture, then a release commit bumping production to 1.4.2 (the culprit). */
export function shopRepository(dir: string, extra: Record<string, string> = {}, message = 'release: checkout 1.4.2 to production'): string {
  const files = filesOf(SHOP);
  const overlay = 'apps/checkout/overlays/production/kustomization.yaml';
  const bare = join(dir, 'shop.git');
  seedBareRepository(bare, [
    { message: 'shop: initial manifests', files: { ...files, ...extra } },
    { message, files: { [overlay]: files[overlay]!.replace('newTag: "1.4.1"', 'newTag: "1.4.2"') } },
  ]);
  return bare;
}

export function alertPayload(over: { service?: string; annotations?: Record<string, string>; startsAt?: string } = {}): Record<string, unknown> {
  return {
    version: '4',
    groupKey: '{}:{alertname="CheckoutErrors"}',
    status: 'firing',
    receiver: 'arbiter',
    groupLabels: { alertname: 'CheckoutErrors' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.invalid',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'CheckoutErrors', service: over.service ?? 'checkout', namespace: 'shop', severity: 'page' },
        annotations: { summary: '5xx ratio above 20% for 5 minutes', signal_errorRate: '0.31', ...over.annotations },
        startsAt: over.startsAt ?? '2026-11-21T02:10:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.invalid/graph',
        fingerprint: 'a1b2c3d4e5f60718',
      },
    ],
  };
}

/** The fixed fields of the payload's diagnosis, copied from what the first request told the model. */
export function fixedFields(firstRequestBody: any): Record<string, unknown> {
  const text = firstRequestBody.messages[0].content as string;
  const line = text.split('\n').find((l) => l.startsWith('Copy these fields exactly'))!;
  return JSON.parse(line.slice(line.indexOf('{')));
}

export function submission(fixed: Record<string, unknown>, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...fixed,
    hypotheses: [
      {
        cause: 'bad-deployment',
        confidence: 0.92,
        evidence: ['prometheus: 5xx ratio 0.31 for checkout', 'recent_changes: production image tag 1.4.1 -> 1.4.2 just before the alert'],
        subject: { kind: 'Deployment', name: 'checkout', namespace: 'shop' },
      },
      { cause: 'load-surge', confidence: 0.1 },
    ],
    ...over,
  };
}

/** The shipped bundle's decision on `diagnosis`, as `arbiter decide` makes it. */
export async function shippedDecision(diagnosis: Diagnosis, repoDir?: string): Promise<Decision> {
  const dir = tempDir('arbiter-diagnose-decide-');
  try {
    const file = join(dir.path, 'diagnosis.json');
    writeFileSync(file, JSON.stringify(diagnosis));
    return decide(await loadDecisionInputs({ diagnosisFile: file, ...(repoDir ? { repoDir } : {}) }));
  } finally {
    dir.cleanup();
  }
}
