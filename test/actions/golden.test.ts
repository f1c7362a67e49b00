// Golden tests per action on the shop fixture repository: exact minimal diffs, idempotency, and every
// Kustomize result rendering with the real `kubectl kustomize`.
import { expect, it } from 'vitest';
import { checkRender, getAction } from '../../actions/index.ts';
import type { Plan } from '../../actions/types.ts';
import { diffs, shopTree } from './fixture-tree.ts';
import { catalogOf, NOW, plan } from './setup.ts';
import { describeNeeding } from '../support/needs.ts';

// the render check must really run here, never report "skipped": without kubectl these suites skip, saying so

/** Plan, check the edits render, and check that planning again on the result changes nothing. */
async function planTwice(service: string, kind: Parameters<typeof plan>[1], params: Parameters<typeof plan>[2] = {}, options: Parameters<typeof plan>[3] = {}): Promise<Plan> {
  const tree = options.tree ?? shopTree();
  const first = await plan(service, kind, params, { ...options, tree });
  const after = tree.with(first.edits);
  const render = await checkRender(tree, first.edits, catalogOf(tree)[service]!);
  if (tree.list(`apps/${service}/`).some((p) => p.endsWith('kustomization.yaml'))) expect(render.status).toBe('ok');
  else expect(render.status).toBe('not-applicable');
  // the applied action (clamped, resolved) is what the ledger records: replanning it is a no-op
  expect((await plan(service, kind, first.applied.params, { ...options, tree: after })).edits).toEqual([]);
  // a relative request (percent) means "again" when repeated; every absolute one is idempotent as asked
  if (params.percent === undefined) expect((await plan(service, kind, params, { ...options, tree: after })).edits).toEqual([]);
  return first;
}

describeNeeding(['kubectl'], 'restart', () => {
  it('adds the restartedAt annotation block under the pod template metadata, in the file\'s indentation', async () => {
    const p = await planTwice('checkout', 'restart');
    expect(p.edits).toHaveLength(1);
    const before = shopTree().read('apps/checkout/base/deployment.yaml')!;
    const expected = before.replace(
      '        version: stable\n',
      '        version: stable\n      annotations:\n        arbiter.dev/restartedAt: "2026-11-21T02:13:00Z"\n',
    );
    expect(p.edits[0]).toEqual({ path: 'apps/checkout/base/deployment.yaml', before, after: expected });
    expect(p.notes).toContain('the annotation is in the shared base: every overlay (production, staging) restarts');
  });

  it('adds one line to an existing annotations map of a multi-document file', async () => {
    const p = await planTwice('cart', 'restart');
    expect(diffs(p.edits)).toEqual({ 'apps/cart/cart.yaml': ['+        arbiter.dev/restartedAt: "2026-11-21T02:13:00Z"'] });
  });

  it('replaces an earlier restart stamp in place', async () => {
    const tree = shopTree().with((await plan('cart', 'restart')).edits);
    const p = await plan('cart', 'restart', {}, { tree, context: { ...(await import('./setup.ts')).context, now: '2026-11-22T09:00:00Z' } });
    expect(diffs(p.edits)).toEqual({
      'apps/cart/cart.yaml': ['-        arbiter.dev/restartedAt: "2026-11-21T02:13:00Z"', '+        arbiter.dev/restartedAt: "2026-11-22T09:00:00Z"'],
    });
  });

  it('inserts into a flow-style metadata mapping without reflowing it', async () => {
    const tree = shopTree().withFile('apps/cart/cart.yaml', shopTree().read('apps/cart/cart.yaml')!.replace(
      '    metadata:\n      labels: {app: cart}\n      annotations:\n        prometheus.io/scrape: "true"   # scraped by the shop Prometheus\n',
      '    metadata: {labels: {app: cart}}\n',
    ));
    const p = await plan('cart', 'restart', {}, { tree });
    expect(diffs(p.edits)).toEqual({
      'apps/cart/cart.yaml': ['-    metadata: {labels: {app: cart}}', '+    metadata: {labels: {app: cart}, annotations: {arbiter.dev/restartedAt: "2026-11-21T02:13:00Z"}}'],
    });
  });

  it('describes itself for the commit subject', () => {
    expect(getAction('restart').describe({ kind: 'restart', target: { service: 'checkout', namespace: 'shop' }, params: {} })).toBe('restart deployment checkout');
  });
});

describeNeeding(['kubectl'], 'scale', () => {
  it('sets the production overlay replicas entry, clamped to the catalog bound, and says so', async () => {
    const p = await planTwice('checkout', 'scale', { replicas: 30 });
    expect(diffs(p.edits)).toEqual({
      'apps/checkout/overlays/production/kustomization.yaml': ['-    count: 4   # peak-season baseline', '+    count: 20   # peak-season baseline'],
    });
    expect(p.notes).toContain('replicas clamped from 30 to 20 (catalog bound)');
    expect(p.applied.params).toEqual({ replicas: 20 });
    expect(getAction('scale').describe(p.applied)).toBe('scale to 20 replicas');
  });

  it('edits the staging overlay when the environment is staging', async () => {
    const p = await planTwice('checkout', 'scale', { replicas: 3 }, { environment: 'staging' });
    expect(diffs(p.edits)).toEqual({ 'apps/checkout/overlays/staging/kustomization.yaml': ['-    count: 1', '+    count: 3'] });
  });

  it('scales through the HPA minReplicas when an HPA targets the workload (percent of current)', async () => {
    const p = await planTwice('cart', 'scale', { percent: 50 });
    expect(diffs(p.edits)).toEqual({
      'apps/cart/cart.yaml': ['-  minReplicas: 3    # floor during business hours', '+  minReplicas: 5    # floor during business hours'],
    });
    expect(p.applied.params).toEqual({ replicas: 5 });
  });

  it('raises the HPA maxReplicas when the new floor is above it', async () => {
    const p = await planTwice('cart', 'scale', { replicas: 11 });
    expect(diffs(p.edits)).toEqual({
      'apps/cart/cart.yaml': ['-  minReplicas: 3    # floor during business hours', '-  maxReplicas: 10', '+  minReplicas: 11    # floor during business hours', '+  maxReplicas: 11'],
    });
    expect(p.notes).toContain('HorizontalPodAutoscaler cart maxReplicas raised from 10 to 11 to stay above the new floor');
  });

  it('clamps to the lower bound', async () => {
    const p = await planTwice('cart', 'scale', { replicas: 0 });
    expect(p.applied.params).toEqual({ replicas: 2 });
    expect(p.notes).toContain('replicas clamped from 0 to 2 (catalog bound)');
  });

  it('sets replicaCount in Helm values', async () => {
    const p = await planTwice('recommendations', 'scale', { replicas: 3 });
    expect(diffs(p.edits)).toEqual({ 'apps/recommendations/chart/values.yaml': ['-replicaCount: 2', '+replicaCount: 3'] });
  });

  it('sets autoscaling.minReplicas in Helm values when autoscaling is enabled', async () => {
    const tree = shopTree().withFile('apps/recommendations/chart/values.yaml', shopTree().read('apps/recommendations/chart/values.yaml')!.replace('enabled: false', 'enabled: true'));
    const p = await planTwice('recommendations', 'scale', { replicas: 4 }, { tree });
    expect(diffs(p.edits)).toEqual({ 'apps/recommendations/chart/values.yaml': ['-  minReplicas: 1', '+  minReplicas: 4'] });
  });

  it('sets spec.replicas of a plain Deployment when nothing else holds the count', async () => {
    const source = shopTree().read('apps/cart/cart.yaml')!;
    const tree = shopTree().withFile('apps/cart/cart.yaml', source.slice(0, source.indexOf('---\n# Autoscaling')));
    const p = await planTwice('cart', 'scale', { replicas: 6 }, { tree });
    expect(diffs(p.edits)).toEqual({ 'apps/cart/cart.yaml': ['-  replicas: 3', '+  replicas: 6'] });
  });
});

describeNeeding(['kubectl'], 'shift-traffic', () => {
  it('sends everything to stable by default, keeping flow style and comments', async () => {
    const p = await planTwice('checkout', 'shift-traffic');
    expect(diffs(p.edits)).toEqual({
      'apps/checkout/base/virtualservice.yaml': [
        '-          weight: 90   # stable', '+          weight: 100   # stable',
        '-          weight: 10   # canary under observation', '+          weight: 0   # canary under observation',
      ],
    });
    expect(getAction('shift-traffic').describe(p.applied)).toBe('shift all traffic to stable');
  });

  it('sets the canary to the requested weight and stable to the rest', async () => {
    const p = await planTwice('checkout', 'shift-traffic', { canaryWeight: 25 });
    expect(diffs(p.edits)['apps/checkout/base/virtualservice.yaml']).toEqual([
      '-          weight: 90   # stable', '+          weight: 75   # stable',
      '-          weight: 10   # canary under observation', '+          weight: 25   # canary under observation',
    ]);
  });
});

describeNeeding(['kubectl'], 'set-config', () => {
  it('changes one key, keeps its quoting, clamps to bounds.<key>.max and schedules the revert', async () => {
    const p = await planTwice('checkout', 'set-config', { configMap: 'checkout-config', key: 'DB_POOL_SIZE', value: 80, revertAfter: '30m' });
    expect(diffs(p.edits)).toEqual({ 'apps/checkout/base/configmap.yaml': ['-  DB_POOL_SIZE: "20"', '+  DB_POOL_SIZE: "50"'] });
    expect(p.notes).toContain('DB_POOL_SIZE clamped from 80 to 50 (catalog bound)');
    expect(p.followUp).toEqual({
      kind: 'revert',
      due: '2026-11-21T02:43:00Z',
      action: { kind: 'set-config', target: { service: 'checkout', namespace: 'shop' }, params: { configMap: 'checkout-config', key: 'DB_POOL_SIZE', value: '20' } },
      detail: 'revert checkout-config.DB_POOL_SIZE to 20 at 2026-11-21T02:43:00Z (revertAfter 30m)',
      environment: 'production',
    });
  });

  it('keeps single quotes and plain style', async () => {
    const single = await planTwice('checkout', 'set-config', { configMap: 'checkout-config', key: 'DB_TIMEOUT_MS', value: '3000' });
    expect(diffs(single.edits)).toEqual({ 'apps/checkout/base/configmap.yaml': ["-  DB_TIMEOUT_MS: '1500'", "+  DB_TIMEOUT_MS: '3000'"] });
    const plain = await planTwice('checkout', 'set-config', { configMap: 'checkout-config', key: 'LOG_LEVEL', value: 'debug' });
    expect(diffs(plain.edits)).toEqual({ 'apps/checkout/base/configmap.yaml': ['-  LOG_LEVEL: info         # debug | info | warn', '+  LOG_LEVEL: debug         # debug | info | warn'] });
  });

  it('quotes a plain value that would otherwise read back as another type', async () => {
    const p = await planTwice('checkout', 'set-config', { configMap: 'checkout-config', key: 'LOG_LEVEL', value: 'on' });
    expect(diffs(p.edits)['apps/checkout/base/configmap.yaml']).toEqual(['-  LOG_LEVEL: info         # debug | info | warn', '+  LOG_LEVEL: "on"         # debug | info | warn']);
  });

  it('edits a ConfigMap inside a multi-document file', async () => {
    const p = await planTwice('cart', 'set-config', { configMap: 'cart-config', key: 'CACHE_TTL_SECONDS', value: 60 });
    expect(diffs(p.edits)).toEqual({ 'apps/cart/cart.yaml': ['-  CACHE_TTL_SECONDS: "300"', '+  CACHE_TTL_SECONDS: "60"'] });
    expect(p.followUp).toBeUndefined();
  });

  it('edits a configMapGenerator literal of a kustomization', async () => {
    const tree = shopTree().withFile('apps/checkout/overlays/production/kustomization.yaml', `${shopTree().read('apps/checkout/overlays/production/kustomization.yaml')!}
configMapGenerator:
  - name: checkout-limits
    literals:
      - RATE_LIMIT=100   # per pod
`);
    const p = await planTwice('checkout', 'set-config', { configMap: 'checkout-limits', key: 'RATE_LIMIT', value: 150 }, { tree });
    expect(diffs(p.edits)).toEqual({ 'apps/checkout/overlays/production/kustomization.yaml': ['-      - RATE_LIMIT=100   # per pod', '+      - RATE_LIMIT=150   # per pod'] });
  });
});

describeNeeding(['kubectl'], 'patch-image', () => {
  it('goes to the staging overlay first and schedules the production step after 48h', async () => {
    const p = await planTwice('checkout', 'patch-image', { image: 'registry.example.com/shop/checkout:1.4.3' });
    expect(diffs(p.edits)).toEqual({
      'apps/checkout/overlays/staging/kustomization.yaml': ['-    newTag: 1.4.2   # release candidate', '+    newTag: 1.4.3   # release candidate'],
    });
    expect(p.followUp).toMatchObject({
      kind: 'promote',
      due: '2026-11-23T02:13:00Z',
      action: { kind: 'patch-image', params: { image: 'registry.example.com/shop/checkout:1.4.3', environment: 'production' } },
    });
    expect(getAction('patch-image').describe(p.applied)).toBe('patch image to 1.4.3 in staging');
  });

  it('takes the validation period from the bundle settings', async () => {
    const p = await plan('checkout', 'patch-image', { image: 'registry.example.com/shop/checkout:1.4.3' }, { settings: { stagedRollout: { validationPeriod: '24h' } } });
    expect(p.followUp?.due).toBe('2026-11-22T02:13:00Z');
  });

  it('the promotion edits the production overlay, keeping its quotes', async () => {
    const staged = await plan('checkout', 'patch-image', { image: 'registry.example.com/shop/checkout:1.4.3' });
    const tree = shopTree().with(staged.edits);
    const p = await planTwice('checkout', 'patch-image', staged.followUp!.action.params, { tree });
    expect(diffs(p.edits)).toEqual({ 'apps/checkout/overlays/production/kustomization.yaml': ['-    newTag: "1.4.1"', '+    newTag: "1.4.3"'] });
    expect(p.followUp).toBeUndefined();
  });

  it('pins a base-only image in the staging overlay with a new images entry', async () => {
    const p = await planTwice('checkout', 'patch-image', { image: 'registry.example.com/platform/audit-shipper:0.9.4', container: 'audit-shipper' });
    expect(diffs(p.edits)).toEqual({
      'apps/checkout/overlays/staging/kustomization.yaml': ['+  - name: registry.example.com/platform/audit-shipper', '+    newTag: 0.9.4'],
    });
  });

  it('patches a plain manifest directly when there is no staging overlay, and says so', async () => {
    const p = await planTwice('cart', 'patch-image', { image: 'registry.example.com/shop/cart:3.2.1' });
    expect(diffs(p.edits)).toEqual({ 'apps/cart/cart.yaml': ['-        image: "registry.example.com/shop/cart:3.2.0"', '+        image: "registry.example.com/shop/cart:3.2.1"'] });
    expect(p.notes).toContain('no staging overlay: patched production directly');
    expect(p.followUp).toBeUndefined();
  });

  it('sets image.tag in Helm values, quoting a tag that would read as a number', async () => {
    const p = await planTwice('recommendations', 'patch-image', { image: 'registry.example.com/shop/recommendations:2.4' });
    expect(diffs(p.edits)).toEqual({ 'apps/recommendations/chart/values.yaml': ['-  tag: "2.3.0"', '+  tag: "2.4"'] });
  });
});

describeNeeding(['kubectl'], 'every definition', () => {
  it('declares risk, verification and a compensation that swaps before and after', async () => {
    const p = await plan('checkout', 'scale', { replicas: 6 });
    for (const kind of ['rollback', 'restart', 'scale', 'shift-traffic', 'set-config', 'patch-image'] as const) {
      const def = getAction(kind);
      expect(['low', 'medium', 'high']).toContain(def.risk);
      expect(def.verification.window).toMatch(/^\d+[smh]$/);
      expect(def.compensate(p)).toEqual(p.edits.map((e) => ({ path: e.path, before: e.after, after: e.before })));
    }
    expect(NOW).toBe('2026-11-21T02:13:00Z');
  });
});
