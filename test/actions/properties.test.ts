// General rules as properties: any replica request lands within the catalog bounds, planning the applied
// action again is a no-op, and an edit changes only the lines it must.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { lineDiff, shopTree } from './fixture-tree.ts';
import { catalogOf, plan } from './setup.ts';

const SERVICES = ['checkout', 'cart', 'recommendations'] as const;

describe('scale stays within bounds and is idempotent', () => {
  it('for random replica and percent requests', async () => {
    const tree = shopTree();
    const catalog = catalogOf(tree);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SERVICES),
        fc.oneof(fc.record({ replicas: fc.integer({ min: 0, max: 10_000 }) }), fc.record({ percent: fc.integer({ min: -99, max: 1_000 }) })),
        fc.constantFrom('production', 'staging'),
        async (service, params, environment) => {
          const { min, max } = catalog[service]!.bounds.replicas!;
          const p = await plan(service, 'scale', params, { tree, environment });
          const replicas = p.applied.params.replicas as number;
          expect(replicas).toBeGreaterThanOrEqual(min!);
          expect(replicas).toBeLessThanOrEqual(max!);
          const after = tree.with(p.edits);
          expect((await plan(service, 'scale', p.applied.params, { tree: after, environment })).edits).toEqual([]);
          for (const e of p.edits) {
            // only the replica lines change, and the file still parses
            expect(lineDiff(e.before, e.after).length).toBeLessThanOrEqual(4);
            expect(parseAllDocuments(e.after!).every((d: { errors: unknown[] }) => d.errors.length === 0)).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('set-config clamps numeric values to bounds.<key>', () => {
  it('for random pool sizes, and the old value comes back with the revert', async () => {
    const tree = shopTree();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -1000, max: 1000 }), async (value) => {
        const p = await plan('checkout', 'set-config', { configMap: 'checkout-config', key: 'DB_POOL_SIZE', value, revertAfter: '1h' });
        const applied = Number(p.applied.params.value);
        expect(applied).toBe(Math.min(50, Math.max(5, value)));
        if (applied === 20) expect(p.edits).toEqual([]);
        else {
          expect(p.followUp?.action.params.value).toBe('20');
          const reverted = await plan('checkout', 'set-config', p.followUp!.action.params, { tree: tree.with(p.edits) });
          expect(tree.with(p.edits).with(reverted.edits).read('apps/checkout/base/configmap.yaml')).toBe(tree.read('apps/checkout/base/configmap.yaml'));
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('shift-traffic weights always sum to 100', () => {
  it('for every canary weight', async () => {
    const tree = shopTree();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 100 }), async (canaryWeight) => {
        const p = await plan('checkout', 'shift-traffic', { canaryWeight }, { tree });
        const after = tree.with(p.edits).read('apps/checkout/base/virtualservice.yaml')!;
        const weights = [...after.matchAll(/weight: (\d+)/g)].map((m) => Number(m[1]));
        expect(weights).toEqual([100 - canaryWeight, canaryWeight]);
      }),
      { numRuns: 40 },
    );
  });
});
