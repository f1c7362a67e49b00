// `arbiter serve` with `diagnosis: { tier: llm }`: an Alertmanager alert is investigated by the model (the Messages API
// stand-in), decided by the shipped bundle and recorded in the ledger; the heuristic mapping stands in when the API is
// overloaded.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { loadServeConfig } from '../../serve/config.ts';
import { serverDeps } from '../../serve/deps.ts';
import { startServer, type RunningServer } from '../../serve/server.ts';
import { overloaded, reply, startAnthropicStandin, toolUse, type AnthropicStandin } from '../support/anthropic-standin.ts';
import { git, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { alertPayload, fixedFields, shopRepository, submission } from './setup.ts';

const tmp = tempDir('arbiter-diagnose-serve-');
const key = sshTestKey(tmp.path);
let bare: string;
let api: AnthropicStandin;
let server: RunningServer;
const logs: string[] = [];

beforeAll(async () => {
  bare = shopRepository(tmp.path);
  api = await startAnthropicStandin([], { apiKey: 'serve-key' });
  writeFileSync(
    `${tmp.path}/serve.yaml`,
    `listen: 127.0.0.1:0\nrepo: ${bare}\nsigning: { key: ${key.privateKeyFile} }\nnotifier: { kind: none }\nreconcile: { interval: 0s }\n` +
      `diagnosis: { tier: llm, model: claude-opus-5-5, apiKey: { env: ARBITER_TEST_ANTHROPIC_KEY }, baseUrl: "${api.url}", maxRetries: 1, maxTurns: 4 }\n`,
  );
  const config = loadServeConfig(`${tmp.path}/serve.yaml`, { ...process.env, ARBITER_TEST_ANTHROPIC_KEY: 'serve-key' });
  server = await startServer(config, await serverDeps(config, { log: (line) => logs.push(line) }));
});
afterAll(async () => {
  await server?.close();
  await api?.close();
  tmp.cleanup();
});

const post = async (payload: unknown): Promise<{ status: number; body: any; headers: Headers }> => {
  const res = await fetch(`${server.url}/v1/alertmanager`, { method: 'POST', body: JSON.stringify(payload), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: await res.json(), headers: res.headers };
};

describe('serve with the diagnosis tier', () => {
  it('investigates an Alertmanager alert with the model and decides it end to end', async () => {
    api.push(reply([toolUse('recent_changes', {})]), (req) => reply([toolUse('submit_diagnosis', submission(fixedFields(req.body)))]));
    // no cause label, no confidence annotation: the heuristic mapping alone would refuse this alert
    const { status, body } = await post(alertPayload({ startsAt: '2026-11-21T02:11:00Z' }));
    expect(status, JSON.stringify(body)).toBeLessThan(300);
    expect(api.remaining).toBe(0);
    expect(api.requests[0]!.body.tools.map((t: any) => t.name)).toContain('recent_changes');
    const changes = api.requests[1]!.body.messages.at(-1).content[0];
    expect(changes.content).toContain('newTag: \\"1.4.2\\"');
    expect(body.decision.candidates.map((c: any) => c.action.kind)).toContain('rollback');
    const entry = JSON.parse(git(bare, ['show', `${LEDGER_BRANCH}:${git(bare, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH]).split('\n').find((p) => p.endsWith(`${body.decision.id}.json`))}`]));
    expect(entry.diagnosis).toBe(body.decision.diagnosis);
  }, 60_000);

  it('falls back to the heuristic mapping when the API is overloaded', async () => {
    api.push(overloaded(), overloaded());
    const { status, body } = await post(alertPayload({ startsAt: '2026-11-21T02:12:00Z', annotations: { confidence: '0.4' } }));
    expect(status, JSON.stringify(body)).toBeLessThan(300);
    expect(api.remaining).toBe(0);
    expect(body.decision).toMatchObject({ mode: 'escalate' });
    expect(logs.some((l) => /diagnosis: diagnosis tier failed \(the Anthropic API is overloaded .*\); falling back to the heuristic Alertmanager mapping/.test(l))).toBe(true);
  }, 60_000);

  it('answers 503 with retry-after when the API is overloaded and the heuristic mapping cannot map the alert', async () => {
    api.push(overloaded(), overloaded());
    const { status, body, headers } = await post(alertPayload({ startsAt: '2026-11-21T02:13:00Z' }));
    expect(status).toBe(503);
    expect(headers.get('retry-after')).toBe('30');
    expect(body.error).toMatch(/overloaded .*; the heuristic mapping cannot map this alert either \(body: alerts\[0\]\.annotations\.confidence: is required/);
  }, 60_000);

  it('refuses tier llm without a key, naming the field', () => {
    writeFileSync(`${tmp.path}/nokey.yaml`, `repo: ${bare}\nsigning: { key: ${key.privateKeyFile} }\ndiagnosis: { tier: llm }\n`);
    expect(() => loadServeConfig(`${tmp.path}/nokey.yaml`, {})).toThrow(/nokey\.yaml: diagnosis\.apiKey: is required for tier llm/);
  });
});
