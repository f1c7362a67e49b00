// `arbiter diagnose` as a user runs it: the real executable against the Messages API stand-in, its output fed to
// `arbiter decide`.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overloaded, reply, startAnthropicStandin, text, toolUse, type ScriptStep } from '../support/anthropic-standin.ts';
import { tempDir } from '../support/git.ts';
import { alertPayload, fixedFields, shopRepository, submission } from './setup.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
let dir: ReturnType<typeof tempDir>;
let alertFile: string;
let repo: string;

function arbiter(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/arbiter'), ...args], { cwd: dir.path, env: { ...process.env, ARBITER_DEBUG: '', ARBITER_MODEL: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

async function diagnoseWith(script: ScriptStep[], args: string[], stdin?: string) {
  const api = await startAnthropicStandin(script);
  try {
    const r = await arbiter(['diagnose', ...args], { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: api.url }, stdin);
    return { ...r, requests: api.requests };
  } finally {
    await api.close();
  }
}

const submit = (over: Record<string, unknown> = {}): ScriptStep => (req) => reply([toolUse('submit_diagnosis', submission(fixedFields(req.body), over))]);

beforeAll(() => {
  dir = tempDir('arbiter-diagnose-cli-');
  alertFile = join(dir.path, 'alert.json');
  writeFileSync(alertFile, JSON.stringify(alertPayload()));
  repo = shopRepository(dir.path);
});
afterAll(() => dir?.cleanup());

describe('arbiter diagnose --alert FILE --json', () => {
  it('prints exactly one JSON Diagnosis that arbiter decide accepts', async () => {
    const r = await diagnoseWith([reply([toolUse('recent_changes', {})]), submit()], ['--alert', alertFile, '--repo', repo, '--json']);
    expect(r.status).toBe(0);
    const diagnosis = JSON.parse(r.stdout);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(diagnosis).toMatchObject({ source: 'llm', target: { service: 'checkout' }, investigation: { model: 'claude-opus-5-5', turns: 2, tools: [{ name: 'recent_changes', calls: 1, failed: 0 }] } });
    expect(r.stderr).toMatch(/claude-opus-5-5: 2 turns, tools recent_changes×1; tokens in \d+, out \d+/);
    expect(r.requests[0]!.body.tools.map((t: any) => t.name)).toEqual(['recent_changes', 'ledger_history', 'service_catalog', 'submit_diagnosis']);

    const file = join(dir.path, 'diagnosis.json');
    writeFileSync(file, r.stdout);
    const decided = await arbiter(['decide', '--diagnosis', file, '--json']);
    expect(decided.stderr).toBe('');
    expect(decided.status).toBe(0);
    expect(JSON.parse(decided.stdout)).toMatchObject({ kind: 'Decision', diagnosis: diagnosis.id, action: { kind: 'rollback' } });
  }, 60_000);

  it('reads the alert from stdin with -, and --model names the model', async () => {
    const r = await diagnoseWith([submit()], ['--alert', '-', '--model', 'claude-sonnet-5-5', '--json'], JSON.stringify(alertPayload()));
    expect(r.status).toBe(0);
    expect(r.requests[0]!.body.model).toBe('claude-sonnet-5-5');
    expect(JSON.parse(r.stdout).investigation.model).toBe('claude-sonnet-5-5');
  }, 60_000);

  it('a partial diagnosis (--diagnosis) keeps its identity and target', async () => {
    const file = join(dir.path, 'partial.yaml');
    writeFileSync(file, 'id: inc-42-a\nincident: inc-42\nobservedAt: 2026-11-21T02:13:00Z\ntarget: { service: cart, namespace: shop }\nsignals: { latencyP99Ms: 2400 }\n');
    const r = await diagnoseWith([submit()], ['--diagnosis', file, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 'inc-42-a', incident: 'inc-42', target: { service: 'cart', namespace: 'shop' }, signals: { latencyP99Ms: 2400 } });
  }, 60_000);
});

describe('arbiter diagnose failures: one line, the right exit code, no stack', () => {
  it('a hostile submission exits 2 naming the field', async () => {
    const bad = submit({ hypotheses: [{ cause: 'bad-deployment', confidence: 1.7 }] });
    const r = await diagnoseWith([bad, bad, bad], ['--alert', alertFile, '--json']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^arbiter diagnose: submit_diagnosis: hypotheses\[0\]\.confidence: must be ≤ 1/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('an overloaded API exits 75 with one clear line', async () => {
    const r = await diagnoseWith([overloaded(), overloaded(), overloaded()], ['--alert', alertFile, '--json']);
    expect(r.status).toBe(75);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('arbiter diagnose: the Anthropic API is overloaded (HTTP 529 overloaded_error: Overloaded) after 2 retries; try again later\n');
  }, 60_000);

  it('a model that never submits exits 1: nothing decided', async () => {
    const chatter = reply([text('hmm')]);
    const r = await diagnoseWith([chatter, chatter], ['--alert', alertFile, '--max-turns', '2']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('arbiter diagnose: the model did not submit a valid diagnosis within 2 turns; nothing was decided\n');
  }, 60_000);

  it('an unknown model exits 2 naming --model', async () => {
    const r = await diagnoseWith([{ kind: 'error', status: 404, type: 'not_found_error', message: 'model: claude-nope' }], ['--alert', alertFile, '--model', 'claude-nope']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('arbiter diagnose: --model: not found (HTTP 404 not_found_error: model: claude-nope); check the model name\n');
  }, 60_000);

  it('without ANTHROPIC_API_KEY exits 2 naming it', async () => {
    const r = await arbiter(['diagnose', '--alert', alertFile], { ANTHROPIC_API_KEY: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('arbiter diagnose: ANTHROPIC_API_KEY: is not set: the diagnosis tier needs a key for the Anthropic Messages API\n');
  }, 60_000);

  it('an alert without a service label exits 2 naming the field', async () => {
    const file = join(dir.path, 'no-service.json');
    writeFileSync(file, JSON.stringify(alertPayload()).replace('"service":"checkout",', ''));
    const r = await arbiter(['diagnose', '--alert', file], { ANTHROPIC_API_KEY: 'k' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`arbiter diagnose: ${file}: alerts[0].labels.service: is required: the label names the service to remediate\n`);
  }, 60_000);
});
