// Issue 15 item 6: a pull request a reviewer reads in ten seconds: the first paragraph says what changes (from → to)
// and why a human must decide; the evidence and verdicts are folded; the verification metric fits the diagnosis.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseVerification, VERIFICATION_PREFERENCES } from '../../actions/verification.ts';
import { loadDecisionInputs } from '../../bin/cli/decide.ts';
import { decide } from '../../engine/decide.ts';
import { ActionKinds } from '../../engine/types.ts';
import { changeSummary, FOLD_CLOSE, FOLD_TITLES, foldOpen, pullRequestBody } from '../../gitops/forge/body.ts';
import { tempDir } from '../support/git.ts';

const ROOT = join(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'policies/remediation/examples');
const FIXTURE = join(ROOT, 'scenarios/fixtures/shop');
const tmp = tempDir('arbiter-pr-body-');
afterAll(() => tmp.cleanup());

const KUSTOMIZATION = (tag: string, count: number) => `images:\n  - name: registry.example.com/shop/checkout\n    newTag: "${tag}"\nreplicas:\n  - name: checkout\n    count: ${count}   # baseline\n`;
const EDIT = { path: 'apps/checkout/overlays/production/kustomization.yaml', before: KUSTOMIZATION('1.4.2', 4), after: KUSTOMIZATION('1.4.1', 6) };

async function bodyFor(diagnosisFile: string, repoDir = FIXTURE): Promise<{ mode: string; body: string; first: string }> {
  const inputs = await loadDecisionInputs({ diagnosisFile, repoDir });
  const decision = decide(inputs);
  const body = pullRequestBody({ decision, diagnosis: inputs.diagnosis, edits: [EDIT], notes: [], risk: 'medium', base: 'main' });
  return { mode: decision.mode, body, first: body.split('\n')[2]! };
}

describe('the first paragraph of the pull request body', () => {
  it('a critical service: names the policy that requires approval, and what changes from → to', async () => {
    const { mode, first } = await bodyFor(join(EXAMPLES, 'critical-service.yaml'));
    expect(mode).toBe('approval');
    expect(first).toBe(
      '**restart on `payments`: image tag `1.4.2` → `1.4.1`, replicas `4` → `6`.** A human must decide because policy `critical_needs_human` requires approval (`critical services always need a human`).',
    );
  });

  it('the kill switch: says it is on', async () => {
    const repo = join(tmp.path, 'paused');
    cpSync(FIXTURE, repo, { recursive: true });
    writeFileSync(join(repo, '.arbiter/pause'), 'incident review\n');
    const { mode, first } = await bodyFor(join(EXAMPLES, 'memory-leak-off-hours.yaml'), repo);
    expect(mode).toBe('approval');
    expect(first).toContain('**restart on `checkout`: image tag `1.4.2` → `1.4.1`');
    expect(first).toMatch(/A human must decide because the kill switch is on \(`\.arbiter\/pause` or `arbiter\.yaml`\): every change waits for a human\.$/);
  });

  it('a support below the gate: says which gate and by how much', async () => {
    const file = join(tmp.path, 'weak-leak.yaml');
    writeFileSync(file, readFileSync(join(EXAMPLES, 'memory-leak-off-hours.yaml'), 'utf8').replace('confidence: 0.9', 'confidence: 0.62'));
    const { mode, first } = await bodyFor(file);
    expect(mode).toBe('approval');
    expect(first).toMatch(/A human must decide because support 0\.62 is below the notify gate 0\.65 for restart\.$/);
  });

  it('the change freeze: names the freeze policy', async () => {
    const { mode, first } = await bodyFor(join(EXAMPLES, 'change-freeze.yaml'));
    expect(mode).toBe('approval');
    expect(first).toMatch(/^\*\*rollback on `checkout`: .*\*\* A human must decide because policy `change_freeze` requires approval/);
  });

  it('folds the diagnosis, verdicts, resolution and guardrails, and the rationale; the diagnosis stays fenced inside', async () => {
    const { body } = await bodyFor(join(EXAMPLES, 'critical-service.yaml'));
    const [evidence, rationale] = FOLD_TITLES.map((t) => body.indexOf(foldOpen(t)));
    expect(body.split(FOLD_CLOSE).length - 1).toBe(2);
    expect(evidence).toBeGreaterThan(body.indexOf('## Summary'));
    expect(body.indexOf('## Reported by the diagnosis (untrusted)')).toBeGreaterThan(evidence!);
    expect(body.indexOf('## Guardrails')).toBeLessThan(body.indexOf(FOLD_CLOSE));
    expect(body.indexOf('## Changes')).toBeGreaterThan(body.indexOf(FOLD_CLOSE));
    expect(body.indexOf('## Rationale')).toBeGreaterThan(rationale!);
    expect(body.trimEnd().split('\n').at(-1)).toMatch(/^Arbiter-/); // trailers last, outside any fold
  });
});

describe('changeSummary', () => {
  it('pairs changed keys in order, shows new keys as set, and created files', () => {
    const weights = (a: number, b: number) => `      route:\n        - destination: {host: s, subset: stable}\n          weight: ${a}   # stable\n        - destination: {host: s, subset: canary}\n          weight: ${b}   # canary\n`;
    expect(changeSummary([{ path: 'vs.yaml', before: weights(80, 20), after: weights(100, 0) }])).toEqual(['traffic weight `80` → `100`', 'traffic weight `20` → `0`']);
    expect(changeSummary([{ path: 'd.yaml', before: 'metadata:\n  annotations:\n    a: b\n', after: 'metadata:\n  annotations:\n    a: b\n    arbiter.dev/restartedAt: "2026-11-21T02:13:00Z"\n' }])).toEqual([
      '`arbiter.dev/restartedAt` set to `2026-11-21T02:13:00Z`',
    ]);
    expect(changeSummary([{ path: 'new.yaml', before: null, after: 'x: 1\n' }])).toEqual(['`new.yaml` created']);
  });

  it('keeps values inert: a value with backticks or a mention stays one code span', () => {
    const [line] = changeSummary([{ path: 'd.yaml', before: 'image: "a:1"\n', after: 'image: "`@acme` [x](http://evil.example)"\n' }]);
    expect(line).toBe('image `a:1` → `` `@acme` [x](http://evil.example) ``');
  });
});

describe('the verification metric', () => {
  const restart = { metric: 'errorRate', direction: 'decrease' as const, window: '10m' };

  it('a memory leak is verified on memory, not on an error rate the diagnosis never reported', () => {
    expect(chooseVerification('restart', restart, { memoryWorkingSetBytes: 1.9e9, memoryLimitBytes: 2.1e9 })).toEqual({ spec: { ...restart, metric: 'memoryWorkingSetBytes' } });
  });

  it('falls back to the action default with a note when the diagnosis measured none of the preferred metrics', () => {
    const choice = chooseVerification('restart', restart, {});
    expect(choice.spec).toEqual(restart);
    expect(choice.note).toMatch(/measured none of memoryWorkingSetBytes, restartCount, errorRate, latencyP99Ms: verifying restart's default metric errorRate/);
  });

  it('skips a metric with no configured query', () => {
    expect(chooseVerification('restart', restart, { memoryWorkingSetBytes: 1, errorRate: 0.1 }, ['errorRate']).spec.metric).toBe('errorRate');
  });

  it('is always a preferred metric the diagnosis measured, else the default (property)', () => {
    const names = [...new Set(Object.values(VERIFICATION_PREFERENCES).flat()), 'cvss', 'other'];
    fc.assert(
      fc.property(fc.constantFrom(...ActionKinds), fc.dictionary(fc.constantFrom(...names), fc.double({ noNaN: true, noDefaultInfinity: true })), (kind, signals) => {
        const { spec, note } = chooseVerification(kind, restart, signals);
        const wanted = VERIFICATION_PREFERENCES[kind].find((m) => m in signals);
        if (wanted) expect({ metric: spec.metric, note }).toEqual({ metric: wanted, note: undefined });
        else expect({ spec, hasNote: note !== undefined }).toEqual({ spec: restart, hasNote: true });
      }),
    );
  });
});
