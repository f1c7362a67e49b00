// What the action library refuses: bad params (InputError naming the field), edits outside the service's
// paths, repository switches, unknown keys, missing resources, and trees that no longer render.
import { describe, expect, it } from 'vitest';
import { checkRender, getAction, planAction, PlanRefusedError } from '../../actions/index.ts';
import type { ActionDefinition } from '../../actions/types.ts';
import { InputError } from '../../engine/errors.ts';
import { shopTree } from './fixture-tree.ts';
import { catalogOf, context, plan } from './setup.ts';
import { skipWithout } from '../support/needs.ts';

describe('params are validated against the kind\'s schema', () => {
  it.each([
    ['scale', { replicas: 'many' }, 'action.params.replicas'],
    ['scale', {}, 'action.params.replicas'],
    ['scale', { replicas: 3, percent: 10 }, 'action.params.percent'],
    ['shift-traffic', { canaryWeight: 101 }, 'action.params.canaryWeight'],
    ['set-config', { configMap: 'checkout-config', key: 'DB_POOL_SIZE', value: 10, revertAfter: 'soon' }, 'action.params.revertAfter'],
    ['set-config', { key: 'DB_POOL_SIZE', value: 10 }, 'action.params.configMap'],
    ['patch-image', { image: 'registry.example.com/shop/checkout' }, 'action.params.image'],
    ['rollback', { toRevision: '../main' }, 'action.params.toRevision'],
    ['restart', { force: true }, 'action.params'],
  ] as const)('%s %j → InputError at %s', async (kind, params, where) => {
    const err = await plan('checkout', kind, params as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where).toBe(where);
  });

  it('an unknown kind is an InputError naming action.kind', () => {
    expect(() => getAction('reboot')).toThrow(/action\.kind: unknown action kind "reboot"/);
  });
});

describe('blast radius: edits stay inside the catalog paths', () => {
  it('refuses to plan for a service without paths', async () => {
    const service = { ...catalogOf(shopTree()).checkout!, paths: [] };
    await expect(plan('checkout', 'restart', {}, { service })).rejects.toThrow(PlanRefusedError);
  });

  it('never reads resources outside the paths (a checkout Deployment elsewhere is not found)', async () => {
    const service = { ...catalogOf(shopTree()).checkout!, paths: ['apps/checkout/overlays/'] };
    await expect(plan('checkout', 'restart', {}, { service })).rejects.toThrow(/no Deployment or StatefulSet for checkout under apps\/checkout\/overlays\//);
  });

  it('a path prefix without a slash does not cover a sibling directory', async () => {
    const service = { ...catalogOf(shopTree()).cart!, paths: ['apps/car'] };
    await expect(plan('cart', 'restart', {}, { service })).rejects.toThrow(PlanRefusedError);
  });

  it('refuses catalog paths that climb out of the repository', async () => {
    const service = { ...catalogOf(shopTree()).cart!, paths: ['apps/../'] };
    await expect(plan('cart', 'restart', {}, { service })).rejects.toThrow(/must be a relative directory/);
  });

  it('refuses a definition that returns an edit outside the paths (defence in depth)', async () => {
    const restart = getAction('restart');
    const original = restart.plan;
    const rogue: ActionDefinition = { ...restart, plan: async (input) => ({ ...(await original(input)), edits: [{ path: 'apps/cart/cart.yaml', before: 'a', after: 'b' }] }) };
    try {
      (restart as { plan: ActionDefinition['plan'] }).plan = rogue.plan;
      await expect(plan('checkout', 'restart')).rejects.toThrow(/edit to apps\/cart\/cart\.yaml is outside the service's paths/);
    } finally {
      (restart as { plan: ActionDefinition['plan'] }).plan = original;
    }
  });
});

describe('patch-image never switches repository', () => {
  it('refuses an image of another repository', async () => {
    await expect(plan('checkout', 'patch-image', { image: 'evil.example.com/shop/checkout:1.4.3' })).rejects.toThrow(
      /never switches repository: evil\.example\.com\/shop\/checkout is not used by any container of checkout \(found registry\.example\.com\/shop\/checkout, registry\.example\.com\/platform\/audit-shipper\)/,
    );
  });

  it('refuses a repository the overlay renames to another one', async () => {
    const tree = shopTree().withFile('apps/checkout/overlays/staging/kustomization.yaml', shopTree().read('apps/checkout/overlays/staging/kustomization.yaml')!.replace(
      '    newTag: 1.4.2   # release candidate',
      '    newName: mirror.example.com/shop/checkout\n    newTag: 1.4.2',
    ));
    await expect(plan('checkout', 'patch-image', { image: 'registry.example.com/shop/checkout:1.4.3' }, { tree })).rejects.toThrow(/renames it to mirror\.example\.com\/shop\/checkout/);
  });

  it('refuses when the named container uses another repository', async () => {
    await expect(plan('cart', 'patch-image', { image: 'registry.example.com/shop/checkout:9', container: 'cart' })).rejects.toThrow(/never switches repository/);
  });

  it('refuses the Helm chart another repository', async () => {
    await expect(plan('recommendations', 'patch-image', { image: 'docker.io/library/nginx:1.27' })).rejects.toThrow(/found registry\.example\.com\/shop\/recommendations/);
  });
});

describe('missing targets are refused with a clear message', () => {
  it('an unknown ConfigMap key', async () => {
    await expect(plan('checkout', 'set-config', { configMap: 'checkout-config', key: 'DB_POOL', value: 10 })).rejects.toThrow(
      'ConfigMap checkout-config (apps/checkout/base/configmap.yaml) has no data key DB_POOL',
    );
  });
  it('an unknown ConfigMap', async () => {
    await expect(plan('checkout', 'set-config', { configMap: 'nope', key: 'A', value: 1 })).rejects.toThrow('no ConfigMap nope under apps/checkout/');
  });
  it('a workload in another namespace', async () => {
    await expect(plan('cart', 'restart', {}, { namespace: 'payments' })).rejects.toThrow('no Deployment or StatefulSet for cart under apps/cart/');
  });
  it('a VirtualService without a canary route', async () => {
    await expect(plan('cart', 'shift-traffic')).rejects.toThrow('no Istio VirtualService for cart under apps/cart/');
  });
  it('rollback without history', async () => {
    await expect(plan('checkout', 'rollback')).rejects.toThrow(/needs the Git history/);
  });
});

describe('render check', () => {
  it('refuses a plan that breaks `kubectl kustomize`, quoting kubectl\'s first error line', async (ctx) => {
    skipWithout(ctx, 'kubectl');
    const tree = shopTree();
    const path = 'apps/checkout/overlays/production/kustomization.yaml';
    const broken = tree.read(path)!.replace('  - ../../base', '  - ../../base\n  - hpa.yaml');
    const err = await checkRender(tree, [{ path, before: tree.read(path)!, after: broken }], catalogOf(tree).checkout!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanRefusedError);
    expect((err as Error).message).toMatch(/^the edited tree does not render: kubectl kustomize apps\/checkout\/overlays\/production: Error: .*hpa\.yaml/);
    expect((err as Error).message).not.toMatch(/arbiter-render-/);
  });

  it('renders only the roots (overlays), which cover the base', async (ctx) => {
    skipWithout(ctx, 'kubectl');
    const tree = shopTree();
    const r = await checkRender(tree, [], catalogOf(tree).checkout!);
    expect(r).toEqual({ status: 'ok', rendered: ['apps/checkout/overlays/production', 'apps/checkout/overlays/staging'], detail: expect.any(String) });
  });

  it('reports "skipped: kubectl not found" instead of passing silently when kubectl is absent', async () => {
    const tree = shopTree();
    const r = await checkRender(tree, [], catalogOf(tree).checkout!, { kubectl: '' }).catch((e: unknown) => e);
    // an explicit empty binary means "not found"
    expect(r).toMatchObject({ status: 'skipped', detail: 'skipped: kubectl not found' });
  });

  it('is not applicable without a kustomization', async () => {
    const tree = shopTree();
    expect((await checkRender(tree, [], catalogOf(tree).cart!)).status).toBe('not-applicable');
  });

  it('planAction itself stays pure: it never runs kubectl', async () => {
    const tree = shopTree();
    const p = await planAction({ tree, service: catalogOf(tree).checkout!, context, action: { kind: 'restart', target: { service: 'checkout', namespace: 'shop' }, params: {} } });
    expect(p.edits).toHaveLength(1);
  });
});
