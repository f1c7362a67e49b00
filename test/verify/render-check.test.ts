// act runs the render check (actions/render.ts `checkRender`) after planning: a plan that breaks `kubectl kustomize`
// is escalated with the reason in the rationale and the ledger, and nothing is written to the target branch.
import { afterAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../actions/types.ts';
import { act } from '../../app/act.ts';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { git, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { skipWithout } from '../support/needs.ts';
import { CATALOG, diagnosis, stubBundle, stubCore } from '../gitops/stub-core.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const signer = sshSigner(sshTestKey(tmp.path).privateKey);
const KUSTOMIZATION = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n';
const DEPLOYMENT = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout\nspec:\n  template:\n    metadata:\n      annotations: {}\n';
let n = 0;

function repo(): string {
  const bare = `${tmp.path}/shop-${n++}.git`;
  seedBareRepository(bare, [{ message: 'initial', files: { '.arbiter/catalog.yaml': CATALOG, 'apps/checkout/kustomization.yaml': KUSTOMIZATION, 'apps/checkout/deployment.yaml': DEPLOYMENT } }]);
  return bare;
}

/** The stub core, planning the given edit to the kustomization instead of its own. */
function coreEditing(after: string) {
  const core = stubCore();
  core.planAction = async ({ action }): Promise<Plan> => ({ edits: [{ path: 'apps/checkout/kustomization.yaml', before: KUSTOMIZATION, after }], notes: ['edit the kustomization'], applied: action });
  return core;
}

describe('act: the edited tree must still render', () => {
  it('a plan that breaks kubectl kustomize is escalated, recorded in the ledger, and main is untouched', async (ctx) => {
    skipWithout(ctx, 'kubectl');
    const bare = repo();
    const main = git(bare, ['rev-parse', 'main']).trim();
    const r = await act({ diagnosis: diagnosis(), bundle: stubBundle, repo: bare, signer, core: coreEditing(`${KUSTOMIZATION}  - missing.yaml\n`) });
    expect(r.decision.mode).toBe('escalate');
    expect(r.actuation.commit).toBeNull();
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(main);
    const report = r.decision.guardrails.find((g) => g.name === 'plan-refused');
    expect(report?.applied).toBe(true);
    expect(report?.detail).toMatch(/does not render: kubectl kustomize apps\/checkout: .*missing\.yaml/);
    expect(r.decision.rationale.at(-1)).toMatch(/^Escalated instead of acting: the edited tree does not render/);
    const entry = JSON.parse(git(bare, ['show', `${LEDGER_BRANCH}:decisions/2026/11/21/${r.decision.id}.json`]));
    expect(entry.mode).toBe('escalate');
    expect(entry.rationale.at(-1)).toMatch(/does not render/);
  });

  it('a plan that still renders is committed', async () => {
    const bare = repo();
    const r = await act({ diagnosis: diagnosis(), bundle: stubBundle, repo: bare, signer, core: coreEditing(`${KUSTOMIZATION}commonLabels:\n  team: checkout\n`) });
    expect(r.decision.mode).toBe('auto');
    expect(r.actuation.commit).toBe(git(bare, ['rev-parse', 'main']).trim());
    expect(r.decision.guardrails.some((g) => g.name === 'plan-refused')).toBe(false);
  });

  it('without kubectl the plan is committed and a note says the check was skipped', async () => {
    const bare = repo();
    const r = await act({ diagnosis: diagnosis(), bundle: stubBundle, repo: bare, signer, core: coreEditing(`${KUSTOMIZATION}  - missing.yaml\n`), kubectl: '' });
    expect(r.decision.mode).toBe('auto');
    expect(r.actuation.notes).toContain('render check skipped: kubectl not found');
  });
});
