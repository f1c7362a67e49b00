// `arbiter serve` against a runaway policy evaluation (issue 10 item 3): decisions run in the worker pool, so
// /healthz answers while a runaway decision runs; the runaway worker is terminated, the decision escalates and says
// why, and the next diagnosis is decided normally on a fresh worker. The bundle is the shipped CEL bundle plus a
// policy quadratic in the evidence words.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { loadServeConfig } from '../../serve/config.ts';
import { serverDeps } from '../../serve/deps.ts';
import { startServer, type RunningServer } from '../../serve/server.ts';
import { filesOf, git, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';

const RUNAWAY = `apiVersion: arbiter.dev/v1
kind: CelPolicy
metadata:
  name: runaway
  description: Quadratic in the number of evidence words.
spec:
  priority: 100
  match: action.kind == "restart"
  variables:
    - name: words
      expression: >-
        diagnosis.hypotheses.map(h, has(h.evidence) ? h.evidence.join(" ") : "").join(" ").split(" ")
  verdicts:
    - when: variables.words.exists(a, variables.words.exists(b, a + b == "nevermore"))
      effect: deny
      reason: two words make "nevermore"
`;

const tmp = tempDir();
const key = sshTestKey(tmp.path);
const bare = `${tmp.path}/shop.git`;
const bundle = `${tmp.path}/bundle`;
const example = fileURLToPath(new URL('../../policies/remediation/examples/memory-leak-off-hours.yaml', import.meta.url));
let server: RunningServer;
const logs: string[] = [];

beforeAll(async () => {
  seedBareRepository(bare, [{ message: 'initial GitOps tree', files: filesOf(fileURLToPath(new URL('../fixtures/repos/shop', import.meta.url))) }]);
  cpSync(fileURLToPath(new URL('../../policies/remediation', import.meta.url)), bundle, { recursive: true, dereference: true });
  writeFileSync(`${bundle}/runaway.cel.yaml`, RUNAWAY);
  writeFileSync(`${tmp.path}/serve.yaml`, `listen: 127.0.0.1:0\nrepo: ${bare}\nbundle: ${bundle}\nsigning: { key: ${key.privateKeyFile} }\nnotifier: { kind: none }\nreconcile: { interval: 0s }\n`);
  const config = loadServeConfig(`${tmp.path}/serve.yaml`);
  server = await startServer(config, await serverDeps(config, { log: (line) => logs.push(line) }));
});
afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

function diagnosisYaml(id: string, incident: string, evidence: string[]): string {
  const d = parse(readFileSync(example, 'utf8')) as { id: string; incident: string; hypotheses: Array<{ evidence: string[] }> };
  d.id = id;
  d.incident = incident;
  d.hypotheses[0]!.evidence = evidence;
  return stringify(d);
}

const post = (body: string): Promise<Response> => fetch(`${server.url}/v1/diagnoses`, { method: 'POST', body, headers: { 'content-type': 'application/yaml' } });

describe('serve with a runaway policy evaluation', () => {
  it('/healthz answers while the runaway runs; the runaway is terminated and the decision escalates saying why', async () => {
    const words = Array.from({ length: 100 }, () => 'w '.repeat(1000).trim());
    let settled = false;
    const pending = post(diagnosisYaml('diag-runaway-1', 'INC-9001', words)).then((r) => {
      settled = true;
      return r;
    });
    // health checks while the decision is still running in its worker
    let answeredDuring = 0;
    for (let i = 0; i < 5 && !settled; i++) {
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      if (!settled) answeredDuring++;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(answeredDuring).toBeGreaterThan(0);
    const res = await pending;
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.decision.mode).toBe('escalate');
    expect(body.decision.rationale.join('\n')).toMatch(/fails closed: policy evaluation overran its time budget: no answer within 2000 ms/);
    expect(git(bare, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH])).toContain(`${body.decision.id}.json`);
    expect(logs.join('\n')).toMatch(/overran 2000 ms; its worker is terminated and replaced/);
  }, 120_000);

  it('the next diagnosis is decided normally on a fresh worker', async () => {
    const res = await post(diagnosisYaml('diag-ordinary-2', 'INC-9002', ['working set grew linearly for 6h']));
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.decision).toMatchObject({ mode: 'auto', action: { kind: 'restart' } });
  }, 120_000);
});
