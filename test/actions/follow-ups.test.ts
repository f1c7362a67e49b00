// Temporary changes and staged rollouts: which follow-ups are due, and carrying one out on the current tree.
import { describe, expect, it } from 'vitest';
import { dueFollowUps, planFollowUp } from '../../actions/index.ts';
import type { RecordedFollowUp } from '../../actions/index.ts';
import { diffs, shopTree } from './fixture-tree.ts';
import { catalogOf, context, plan } from './setup.ts';

const target = { service: 'checkout', namespace: 'shop' };
const entry = (decision: string, due: string, settled?: RecordedFollowUp['settled']): RecordedFollowUp => ({
  decision,
  followUp: { kind: 'revert', due, action: { kind: 'restart', target, params: {} }, detail: '' },
  ...(settled ? { settled } : {}),
});

describe('dueFollowUps', () => {
  it('returns unsettled follow-ups due at or before now, oldest first', () => {
    const entries = [
      entry('d3', '2026-11-21T03:00:00Z'),
      entry('d1', '2026-11-21T02:00:00Z'),
      entry('d2', '2026-11-21T02:13:00Z'),
      entry('d4', '2026-11-21T01:00:00Z', { outcome: 'done', at: '2026-11-21T01:05:00Z' }),
      entry('d5', '2026-11-21T01:00:00Z', { outcome: 'cancelled', at: '2026-11-21T00:30:00Z', detail: 'verification failed in staging' }),
    ];
    expect(dueFollowUps(entries, '2026-11-21T02:13:00Z').map((e) => e.decision)).toEqual(['d1', 'd2']);
    expect(dueFollowUps(entries, '2026-11-21T01:59:59Z')).toEqual([]);
  });
});

describe('carrying out a follow-up', () => {
  it('a scheduled revert restores the old ConfigMap value, and again is a no-op', async () => {
    const tree = shopTree();
    const temp = await plan('checkout', 'set-config', { configMap: 'checkout-config', key: 'DB_POOL_SIZE', value: 40, revertAfter: '30m' });
    const changed = tree.with(temp.edits);
    const recorded: RecordedFollowUp = { decision: 'd1', followUp: temp.followUp! };
    const base = { tree: changed, service: catalogOf(tree).checkout!, context: { ...context, now: temp.followUp!.due } };
    const revert = await planFollowUp(recorded, base);
    expect(diffs(revert.edits)).toEqual({ 'apps/checkout/base/configmap.yaml': ['-  DB_POOL_SIZE: "40"', '+  DB_POOL_SIZE: "20"'] });
    expect(revert.followUp).toBeUndefined();
    expect((await planFollowUp(recorded, { ...base, tree: changed.with(revert.edits) })).edits).toEqual([]);
  });

  it('a promotion patches production and schedules nothing further', async () => {
    const staged = await plan('checkout', 'patch-image', { image: 'registry.example.com/shop/checkout:1.4.3' });
    const tree = shopTree().with(staged.edits);
    const promote = await planFollowUp({ decision: 'd2', followUp: staged.followUp! }, { tree, service: catalogOf(tree).checkout!, context });
    expect(promote.edits.map((e) => e.path)).toEqual(['apps/checkout/overlays/production/kustomization.yaml']);
    expect(promote.followUp).toBeUndefined();
  });
});
