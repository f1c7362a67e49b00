// rollback: the last known-good state from history — toRevision, else the parent of the most recent commit
// that changed the service's paths, skipping arbiter's own commits.
import { describe, expect, it } from 'vitest';
import { checkRender, getAction } from '../../actions/index.ts';
import { diffs, linearHistory, ROOT_OID, shopTree } from './fixture-tree.ts';
import { catalogOf, plan } from './setup.ts';

const PROD = 'apps/checkout/overlays/production/kustomization.yaml';
const oid = (c: string): string => c.repeat(40);
const base = shopTree();
const bump = (tag: string): string => base.read(PROD)!.replace('newTag: "1.4.1"', `newTag: "${tag}"`);

function incidentHistory() {
  return linearHistory(base, [
    { oid: oid('1'), message: 'deploy checkout 1.4.2', files: { [PROD]: bump('1.4.2') } },
    { oid: oid('2'), message: 'cart: raise cache ttl', files: { 'apps/cart/cart.yaml': base.read('apps/cart/cart.yaml')!.replace('"300"', '"600"') } },
  ]);
}

describe('rollback', () => {
  it('restores exactly the tag line of the most recent change to the service', async () => {
    const { tree, history } = incidentHistory();
    const p = await plan('checkout', 'rollback', {}, { tree, history });
    expect(diffs(p.edits)).toEqual({ [PROD]: ['-    newTag: "1.4.2"', '+    newTag: "1.4.1"'] });
    expect(p.applied.params).toEqual({ toRevision: ROOT_OID, toVersion: '1.4.1' });
    expect(getAction('rollback').describe(p.applied)).toBe('roll back to 1.4.1');
    expect((await checkRender(tree, p.edits, catalogOf(tree).checkout!)).status).toBe('ok');
  });

  it('is a no-op once rolled back: arbiter\'s own rollback commit is not a culprit', async () => {
    const { tree, history: before } = incidentHistory();
    const first = await plan('checkout', 'rollback', {}, { tree, history: before });
    const after = tree.with(first.edits);
    const { history } = linearHistory(base, [
      { oid: oid('1'), message: 'deploy checkout 1.4.2', files: { [PROD]: bump('1.4.2') } },
      { oid: oid('3'), message: 'arbiter(checkout): roll back to 1.4.1\n\nArbiter-Action: rollback\nArbiter-Incident: inc-1', files: { [PROD]: after.read(PROD)! } },
    ]);
    expect((await plan('checkout', 'rollback', {}, { tree: after, history })).edits).toEqual([]);
  });

  it('restores a given toRevision, creating and deleting files as needed', async () => {
    const { tree, history } = linearHistory(base, [
      { oid: oid('a'), message: 'add pdb', files: { 'apps/checkout/base/pdb.yaml': 'kind: PodDisruptionBudget\n' } },
      { oid: oid('b'), message: 'deploy 1.5.0', files: { [PROD]: bump('1.5.0') } },
    ]);
    const p = await plan('checkout', 'rollback', { toRevision: oid('a') }, { tree, history });
    expect(p.edits.map((e) => e.path)).toEqual([PROD]);
    const toRoot = await plan('checkout', 'rollback', {}, { tree: tree.with(p.edits), history: linearHistory(base, [
      { oid: oid('a'), message: 'add pdb', files: { 'apps/checkout/base/pdb.yaml': 'kind: PodDisruptionBudget\n' } },
    ]).history });
    expect(toRoot.edits).toEqual([{ path: 'apps/checkout/base/pdb.yaml', before: 'kind: PodDisruptionBudget\n', after: null }]);
  });

  it('never touches files outside the service paths, even when the revision differs there', async () => {
    const { tree, history } = incidentHistory();
    const p = await plan('checkout', 'rollback', { toRevision: oid('1') }, { tree, history });
    expect(p.edits).toEqual([]);
    const all = await plan('checkout', 'rollback', {}, { tree, history });
    expect(all.edits.every((e) => e.path.startsWith('apps/checkout/'))).toBe(true);
  });

  it('refuses an unknown revision and a history without changes to the service', async () => {
    const { tree, history } = incidentHistory();
    await expect(plan('checkout', 'rollback', { toRevision: oid('f') }, { tree, history })).rejects.toThrow(/is not in the history/);
    const lonely = linearHistory(base, []);
    await expect(plan('checkout', 'rollback', {}, { tree: lonely.tree, history: lonely.history })).rejects.toThrow(/there is no earlier state/);
  });
});
