// Reconciliation watchers (Argo CD wire format, Flux via a user-supplied command) and the metric recovery rules.
import { chmodSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meets, recoveryBound, renderQuery, worst } from '../../gitops/verify/metrics.ts';
import { ArgoCdWatcher, FluxCommandWatcher, argoObservation, fluxObservation, waitForReconciliation } from '../../gitops/verify/reconciliation.ts';
import { parseDuration } from '../../app/verify.ts';
import { startArgoCdStandIn, type ArgoCdStandIn } from '../support/argocd-standin.ts';
import { tempDir } from '../support/git.ts';

const tmp = tempDir();
const OID = 'a'.repeat(40);
const target = { service: 'checkout', namespace: 'shop' };
let argo: ArgoCdStandIn;
beforeAll(async () => {
  argo = await startArgoCdStandIn({ token: 'tok' });
});
afterAll(async () => {
  await argo.close();
  tmp.cleanup();
});

describe('Argo CD watcher', () => {
  it('Synced + Healthy at our revision is reconciled; anything else is not', () => {
    const app = (sync: string, health: string, revision = OID) => ({ metadata: { name: 'checkout' }, status: { sync: { status: sync, revision }, health: { status: health } } });
    expect(argoObservation(app('Synced', 'Healthy'))).toMatchObject({ healthy: true, revisions: [OID] });
    expect(argoObservation(app('OutOfSync', 'Healthy')).healthy).toBe(false);
    expect(argoObservation(app('Synced', 'Degraded')).healthy).toBe(false);
    expect(argoObservation({ status: { sync: { status: 'Synced', revisions: [OID, 'b'.repeat(40)] }, health: { status: 'Healthy' } } }).revisions).toEqual([OID, 'b'.repeat(40)]);
  });

  it('uses the configured application name and a Bearer token; a wrong token is reported, not thrown past the wait', async () => {
    argo.setApplication('shop-checkout', [{ revision: OID }]);
    const ok = await new ArgoCdWatcher({ url: argo.url, token: 'tok', applications: { checkout: 'shop-checkout' } }).observe(target);
    expect(ok).toMatchObject({ healthy: true, revisions: [OID] });
    expect(argo.authorizations.at(-1)).toBe('Bearer tok');
    const denied = await waitForReconciliation(new ArgoCdWatcher({ url: argo.url, token: 'wrong', applications: { checkout: 'shop-checkout' } }), target, OID, { timeoutMs: 200, pollMs: 50 });
    expect(denied.reconciled).toBe(false);
    expect(denied.detail).toMatch(/HTTP 401 .*no session information/);
  });

  it('a later commit that contains ours counts (another change landed after it)', async () => {
    argo.setApplication('checkout', [{ revision: 'c'.repeat(40) }]);
    const w = await waitForReconciliation(new ArgoCdWatcher({ url: argo.url, token: 'tok' }), target, OID, { timeoutMs: 500, pollMs: 50, contains: async (r) => r === 'c'.repeat(40) });
    expect(w.reconciled).toBe(true);
  });
});

describe('Flux watcher: a user-supplied command printing the Kustomization as JSON', () => {
  const state = `${tmp.path}/kustomization.json`;
  const script = `${tmp.path}/fake-kubectl`;
  beforeAll(() => {
    // stands in for `kubectl get kustomization $service -n $namespace -o json`
    writeFileSync(script, `#!/bin/sh\n[ "$1" = get ] || { echo "unexpected $1" >&2; exit 3; }\n[ -f "${state}" ] || { echo 'Error from server (NotFound): kustomizations "'"$3"'" not found' >&2; exit 1; }\nsed "s/@NAME@/$3.$5/" "${state}"\n`);
    chmodSync(script, 0o755);
  });
  const watcher = () => new FluxCommandWatcher({ command: [script, 'get', 'kustomization', '$service', '-n', '$namespace', '-o', 'json'] });
  const doc = (revision: string, ready: string) =>
    JSON.stringify({ apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name: '@NAME@' }, status: { lastAppliedRevision: revision, conditions: [{ type: 'Ready', status: ready, reason: ready === 'True' ? 'ReconciliationSucceeded' : 'Progressing' }] } });

  it('substitutes $service and $namespace and reads lastAppliedRevision (main@sha1:<oid>)', async () => {
    writeFileSync(state, doc(`main@sha1:${OID}`, 'True'));
    const seen = await watcher().observe(target);
    expect(seen).toMatchObject({ healthy: true, revisions: [OID] });
    expect(seen.detail).toMatch(/kustomization checkout\.shop: last applied main@sha1:a{40}, Ready True/);
  });

  it('reads the pre-2.1 form main/<oid> and waits for Ready', async () => {
    expect(fluxObservation({ status: { lastAppliedRevision: `main/${OID}` } }).revisions).toEqual([OID]);
    writeFileSync(state, doc(`main@sha1:${OID}`, 'False'));
    const w = await waitForReconciliation(watcher(), target, OID, { timeoutMs: 300, pollMs: 50 });
    expect(w.reconciled).toBe(false);
    expect(w.detail).toMatch(/Ready False \(Progressing\)/);
    setTimeout(() => writeFileSync(state, doc(`main@sha1:${OID}`, 'True')), 150);
    expect((await waitForReconciliation(watcher(), target, OID, { timeoutMs: 3000, pollMs: 50 })).reconciled).toBe(true);
  });

  it('a failing command is reported with its stderr', async () => {
    const { rmSync } = await import('node:fs');
    rmSync(state, { force: true });
    const w = await waitForReconciliation(watcher(), target, OID, { timeoutMs: 100, pollMs: 50 });
    expect(w.detail).toMatch(/flux: .*NotFound.*checkout/);
  });
});

describe('recovery rules', () => {
  it('durations', () => {
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('soon')).toBeUndefined();
  });

  it('queries substitute $service, $namespace and $window', () => {
    expect(renderQuery({ query: 'sum(rate(x{service="$service",ns="$namespace"}[$window]))' }, { service: 'cart', namespace: 'shop', window: '10m' })).toBe('sum(rate(x{service="cart",ns="shop"}[10m]))');
  });

  it('no threshold and no signal: recovery cannot be judged', () => {
    expect(recoveryBound({ query: 'q', improvementPercent: 20 }, 'decrease', undefined)).toHaveProperty('unjudgeable');
    expect(recoveryBound({ query: 'q' }, 'decrease', 0.3)).toHaveProperty('unjudgeable');
  });

  it('property: an improvement bound lies on the recovering side of the signal, and the signal itself never passes', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 1e6, noNaN: true }), fc.double({ min: 1, max: 99, noNaN: true }), fc.constantFrom('decrease' as const, 'increase' as const), (signal, pct, direction) => {
        const r = recoveryBound({ query: 'q', improvementPercent: pct }, direction, signal);
        if (!('bound' in r)) throw new Error('expected a bound');
        expect(direction === 'decrease' ? r.bound < signal : r.bound > signal).toBe(true);
        expect(meets(signal, r.bound, direction)).toBe(false);
        expect(meets(r.bound, r.bound, direction)).toBe(true);
      }),
    );
  });

  it('property: with a threshold and an improvement, meeting either one is recovery', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0.01, max: 100, noNaN: true }), fc.double({ min: 1, max: 99, noNaN: true }), fc.double({ min: 0, max: 200, noNaN: true }), fc.constantFrom('decrease' as const, 'increase' as const), (threshold, signal, pct, value, direction) => {
        const both = recoveryBound({ query: 'q', threshold, improvementPercent: pct }, direction, signal);
        const a = recoveryBound({ query: 'q', threshold }, direction, signal);
        const b = recoveryBound({ query: 'q', improvementPercent: pct }, direction, signal);
        if (!('bound' in both) || !('bound' in a) || !('bound' in b)) throw new Error('expected bounds');
        expect(meets(value, both.bound, direction)).toBe(meets(value, a.bound, direction) || meets(value, b.bound, direction));
      }),
    );
  });

  it('property: the worst series decides', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 10 }), fc.double({ min: -1e3, max: 1e3, noNaN: true }), (values, bound) => {
        expect(meets(worst(values, 'decrease')!, bound, 'decrease')).toBe(values.every((v) => v <= bound));
        expect(meets(worst(values, 'increase')!, bound, 'increase')).toBe(values.every((v) => v >= bound));
      }),
    );
    expect(worst([], 'decrease')).toBeUndefined();
  });
});
