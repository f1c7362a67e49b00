// rollback: the last known-good state from history — toRevision, else the parent of the most recent commit
// that changed the service's paths, skipping arbiter's own commits.
import { describe, expect, it } from 'vitest';
import { checkRender, getAction } from '../../actions/index.ts';
import { PlanRefusedError } from '../../actions/index.ts';
import { diffs, linearHistory, MemoryTree, ROOT_OID, shopTree } from './fixture-tree.ts';
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
    await expect(plan('checkout', 'rollback', { toRevision: oid('f') }, { tree, history })).rejects.toThrow(/not on the first-parent history of the target branch/);
    const lonely = linearHistory(base, []);
    await expect(plan('checkout', 'rollback', {}, { tree: lonely.tree, history: lonely.history })).rejects.toThrow(/there is no earlier state/);
  });
});

describe('rollback restores only states the branch really had (hostile toRevision)', () => {
  const evil = base.withFile(PROD, bump('1.4.1').replace('newTag: "1.4.1"', 'newTag: "latest"\n    newName: evil.example/miner'));
  const ledgerTree = new MemoryTree(new Map([['decisions/2026/11/21/d1.json', '{}\n']]));
  const elsewhere = { [oid('9')]: evil, [oid('8')]: ledgerTree };
  const withOthers = () =>
    linearHistory(base, [{ oid: oid('1'), message: 'deploy checkout 1.4.2', files: { [PROD]: bump('1.4.2') } }], elsewhere);

  it.each([
    ['an unmerged branch commit with an attacker image', oid('9'), /not on the first-parent history/],
    ['the ledger commit (no manifests at all)', oid('8'), /not on the first-parent history/],
    ['a blob id', 'b'.repeat(40), /not on the first-parent history/],
    ['a tag', 'v1.4.1', /not a full commit id/],
    ['an abbreviated id', oid('1').slice(0, 12), /not a full commit id/],
    ['a revision expression', 'HEAD~1', /not a full commit id/],
    ['a reflog expression', 'main@{1}', /not a full commit id/],
  ])('refuses %s', async (_name, toRevision, reason) => {
    const { tree, history } = withOthers();
    const err = await plan('checkout', 'rollback', { toRevision }, { tree, history }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanRefusedError);
    expect((err as Error).message).toMatch(reason);
  });

  it('refuses a revision older than settings.rollback.historyDepth commits', async () => {
    const { tree, history } = incidentHistory();
    await expect(plan('checkout', 'rollback', { toRevision: ROOT_OID }, { tree, history, settings: { rollback: { historyDepth: 2 } } })).rejects.toThrow(/searched 2 commits/);
    expect((await plan('checkout', 'rollback', { toRevision: ROOT_OID }, { tree, history, settings: { rollback: { historyDepth: 3 } } })).edits.length).toBe(1);
  });

  it('refuses a revision of the branch before the service existed (it would delete the manifests)', async () => {
    const empty = new MemoryTree(new Map([...base.files].filter(([p]) => !p.startsWith('apps/checkout/'))));
    const { tree, history } = linearHistory(empty, [{ oid: oid('1'), message: 'add checkout', files: Object.fromEntries(base.list('apps/checkout/').map((p) => [p, base.read(p)!])) }]);
    await expect(plan('checkout', 'rollback', { toRevision: ROOT_OID }, { tree, history })).rejects.toThrow(/would delete the service's manifests/);
  });
});

describe('a second rollback does not undo arbiter\'s own change', () => {
  // deploy 1.4.2 → arbiter rolls back → arbiter restarts → another bad-deployment incident
  async function afterRollbackAndRestart() {
    const first = incidentHistory();
    const rolledBack = first.tree.with((await plan('checkout', 'rollback', {}, first)).edits);
    const restarted = rolledBack.with((await plan('checkout', 'restart', {}, { tree: rolledBack })).edits);
    const commits = [
      { oid: oid('1'), message: 'deploy checkout 1.4.2', files: { [PROD]: bump('1.4.2') } },
      { oid: oid('3'), message: 'arbiter(checkout): roll back to 1.4.1\n\nArbiter-Action: rollback\nArbiter-Mode: auto', files: { [PROD]: rolledBack.read(PROD)! } },
      {
        oid: oid('4'),
        message: 'arbiter(checkout): restart deployment checkout\n\nSigned-off-by: x\narbiter-action : restart',
        files: Object.fromEntries(restarted.list('apps/checkout/').filter((p) => restarted.read(p) !== rolledBack.read(p)).map((p) => [p, restarted.read(p)!])),
      },
    ];
    expect(commits[2]!.files).not.toEqual({});
    return { commits, ...linearHistory(base, commits) };
  }

  it('without toRevision: a no-op that says which rollback stands', async () => {
    const { tree, history } = await afterRollbackAndRestart();
    const p = await plan('checkout', 'rollback', {}, { tree, history });
    expect(p.edits).toEqual([]);
    expect(p.notes.join(' ')).toMatch(new RegExp(`already rolled back by arbiter in ${oid('3').slice(0, 12)}`));
  });

  it('with toRevision naming the state the rollback restored: a no-op, the restart annotation stays', async () => {
    const { tree, history } = await afterRollbackAndRestart();
    const p = await plan('checkout', 'rollback', { toRevision: ROOT_OID }, { tree, history });
    expect(p.edits).toEqual([]);
    expect(tree.list('apps/checkout/').some((f) => tree.read(f)!.includes('arbiter.dev/restartedAt'))).toBe(true);
  });

  it('a human deployment after arbiter\'s rollback is rolled back again', async () => {
    const { commits } = await afterRollbackAndRestart();
    const { tree, history } = linearHistory(base, [...commits, { oid: oid('5'), message: 'deploy checkout 1.4.3', files: { [PROD]: bump('1.4.3') } }]);
    const p = await plan('checkout', 'rollback', {}, { tree, history });
    expect(diffs(p.edits)[PROD]).toEqual(['-    newTag: "1.4.3"', '+    newTag: "1.4.1"']);
    expect(p.applied.params).toMatchObject({ toRevision: oid('4') });
  });
});
