// `arbiter verify --config FILE --decision ID`: the §7 loop from the command line, after `arbiter act`.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { act } from '../../app/act.ts';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { startArgoCdStandIn, type ArgoCdStandIn } from '../support/argocd-standin.ts';
import { git, seedBareRepository, tempDir } from '../support/git.ts';
import { sshTestKey } from '../support/keys.ts';
import { SHOP_FILES, diagnosis, stubBundle, stubCore } from '../gitops/stub-core.ts';

const tmp = tempDir();
const key = sshTestKey(tmp.path);
const bin = fileURLToPath(new URL('../../bin/arbiter', import.meta.url));
let argo: ArgoCdStandIn;
let prom: Server;
let value = 0.5;

beforeAll(async () => {
  argo = await startArgoCdStandIn({ token: 't' });
  // Prometheus's instant-query wire format (the real binary is exercised in verify.test.ts)
  prom = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, String(value)] }] } }));
  });
  await new Promise<void>((r) => prom.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await argo.close();
  await new Promise((r) => prom.close(r));
  tmp.cleanup();
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ARGO_TOKEN: 't' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('arbiter verify', () => {
  it('not recovered: exit 1, a compensating commit on main, the result as JSON', async () => {
    const bare = `${tmp.path}/shop.git`;
    seedBareRepository(bare, [{ message: 'initial', files: SHOP_FILES }]);
    const before = git(bare, ['rev-parse', 'main']).trim();
    const r = await act({ diagnosis: diagnosis(), bundle: stubBundle, repo: bare, signer: sshSigner(key.privateKey), core: stubCore() });
    argo.setApplication('checkout', [{ revision: r.actuation.commit! }]);
    const config = `${tmp.path}/serve.yaml`;
    writeFileSync(
      config,
      `repo: ${bare}\nsigning: { key: ${key.privateKeyFile} }\nnotifier: { kind: none }\nargocd: { url: ${argo.url}, token: { env: ARGO_TOKEN } }\n` +
        `prometheus: { url: http://127.0.0.1:${(prom.address() as AddressInfo).port} }\nmetrics: { errorRate: 'errors{service="$service"}' }\nverification: { pollInterval: 100ms, reconcileTimeout: 5s, window: 500ms }\n`,
    );
    const out = await cli(['verify', '--config', config, '--decision', r.decision.id, '--signal', '0.5', '--json']);
    expect(out.code, out.stderr).toBe(1);
    const result = JSON.parse(out.stdout);
    expect(result).toMatchObject({ decision: r.decision.id, outcome: 'failed', compensation: { outcome: 'reverted' } });
    expect(result.recovery.detail).toMatch(/needs ≤ 0\.4 \(20% below the diagnosed 0\.5\)/);
    expect(git(bare, ['rev-parse', 'main']).trim()).toBe(result.compensation.commit);
    expect(git(bare, ['diff', '--name-only', before, 'main']).trim()).toBe('');
    expect(git(bare, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH])).toContain(`${r.decision.id}.compensation.json`);

    const again = await cli(['verify', '--config', config, '--decision', r.decision.id]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already-verified/);
  }, 30_000);

  it('an unknown decision is bad input (exit 2) naming --decision', async () => {
    const config = `${tmp.path}/serve.yaml`;
    const out = await cli(['verify', '--config', config, '--decision', 'dec-nope']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/--decision: no decision dec-nope in the ledger/);
  }, 30_000);
});
