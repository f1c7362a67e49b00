// `arbiter serve` with the real decision core and the shipped bundle: a memory leak at night on the fixture shop
// repository is restarted (auto) through the HTTP intake; the commit renders, is signed, and is in the ledger.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { loadServeConfig } from '../../serve/config.ts';
import { serverDeps } from '../../serve/deps.ts';
import { startServer, type RunningServer } from '../../serve/server.ts';
import { filesOf, git, gitStatus, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';

const tmp = tempDir();
const key = sshTestKey(tmp.path);
const bare = `${tmp.path}/shop.git`;
let server: RunningServer;

beforeAll(async () => {
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: filesOf(fileURLToPath(new URL('../fixtures/repos/shop', import.meta.url))) }]);
  writeFileSync(`${tmp.path}/serve.yaml`, `listen: 127.0.0.1:0\nrepo: ${bare}\nsigning: { key: ${key.privateKeyFile} }\nnotifier: { kind: none }\nreconcile: { interval: 0s }\n`);
  const config = loadServeConfig(`${tmp.path}/serve.yaml`);
  server = await startServer(config, await serverDeps(config, { log: () => undefined }));
});
afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

describe('serve with the shipped bundle', () => {
  it('a YAML diagnosis (memory leak off hours) becomes a signed restart commit on main', async () => {
    const yaml = readFileSync(fileURLToPath(new URL('../../policies/remediation/examples/memory-leak-off-hours.yaml', import.meta.url)), 'utf8');
    const res = await fetch(`${server.url}/v1/diagnoses`, { method: 'POST', body: yaml, headers: { 'content-type': 'application/yaml' } });
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.decision).toMatchObject({ mode: 'auto', action: { kind: 'restart' }, incident: 'INC-4711' });
    expect(body.verification).toBe('disabled');
    expect(body.actuation.commit).toBe(git(bare, ['rev-parse', 'main']).trim());
    expect(gitStatus(bare, [...key.gitConfig, 'verify-commit', 'main']).status).toBe(0);
    expect(git(bare, ['show', 'main', '--', body.actuation.changed[0]])).toMatch(/arbiter\.dev\/restartedAt/);
    expect(git(bare, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH])).toContain(`${body.decision.id}.json`);
  });
});

describe('serve with a policy that fails at decision time (DESIGN §4.8)', () => {
  let broken: RunningServer;
  const brokenBare = `${tmp.path}/shop-broken.git`;
  beforeAll(async () => {
    seedBareRepository(brokenBare, [{ message: 'initial GitOps tree', files: filesOf(fileURLToPath(new URL('../fixtures/repos/shop', import.meta.url))) }]);
    const bundle = `${tmp.path}/broken-bundle`;
    cpSync(fileURLToPath(new URL('../../policies/remediation-rego', import.meta.url)), bundle, { recursive: true, filter: (src) => !src.endsWith('_test.rego') && !src.includes('examples') });
    // a misspelt effect is only found when the rule fires: it must escalate, not answer 500
    writeFileSync(`${bundle}/broken.rego`, 'package arbiter.policies.broken\n\nverdicts contains {"effect": "denny", "priority": 2000, "reason": "typo"} if input.action.kind == "restart"\n');
    writeFileSync(`${tmp.path}/serve-broken.yaml`, `listen: 127.0.0.1:0\nrepo: ${brokenBare}\nbundle: ${bundle}\nsigning: { key: ${key.privateKeyFile} }\nnotifier: { kind: none }\nreconcile: { interval: 0s }\n`);
    const config = loadServeConfig(`${tmp.path}/serve-broken.yaml`);
    broken = await startServer(config, await serverDeps(config, { log: () => undefined }));
  });
  afterAll(async () => {
    await broken?.close();
  });

  it('answers 200 with an escalation naming the error, and records it in the ledger', async () => {
    const yaml = readFileSync(fileURLToPath(new URL('../../policies/remediation/examples/memory-leak-off-hours.yaml', import.meta.url)), 'utf8');
    const before = git(brokenBare, ['rev-parse', 'main']).trim();
    const res = await fetch(`${broken.url}/v1/diagnoses`, { method: 'POST', body: yaml, headers: { 'content-type': 'application/yaml' } });
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.decision.mode).toBe('escalate');
    expect(body.decision.errors).toEqual([expect.objectContaining({ policy: 'broken', phase: 'judge', candidate: 'restart' })]);
    expect(body.decision.errors[0].message).toMatch(/effect/);
    expect(git(brokenBare, ['rev-parse', 'main']).trim()).toBe(before);
    expect(git(brokenBare, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH])).toContain(`${body.decision.id}.json`);
  });
});
