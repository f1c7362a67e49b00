// Audit time for a ledger of 10,000 entries: generated with direct object writes (signed ledger commits, one in ten
// with a signed actuation commit on main), then `audit` is timed: chain walk, every signature verified in-process,
// every entry read and cross-checked against the branch history.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Decision } from '../../engine/types.ts';
import { audit } from '../../gitops/audit.ts';
import { readCommit, writeCommit, writeTreeChanges } from '../../gitops/commit.ts';
import { LEDGER_BRANCH, appendLedgerEntry, type DecisionEntry } from '../../gitops/ledger.ts';
import { commitSubject, decisionTrailers, formatMessage } from '../../gitops/message.ts';
import { Repository } from '../../gitops/repo.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';

export const ENTRIES = 10_000;
const PER_DAY = 100;
const FLUSH_EVERY = 500;

function decisionFor(i: number, at: Date): Decision {
  const service = `svc-${i % 40}`;
  const target = { service, namespace: 'shop' };
  const acted = i % 10 === 0;
  const action = { kind: 'restart' as const, target, params: {} };
  return {
    apiVersion: 'arbiter.dev/v1',
    kind: 'Decision',
    id: `dec-${i.toString(16).padStart(16, '0')}`,
    idempotencyKey: `sha256:${createHash('sha256').update(`key-${i}`).digest('hex')}`,
    incident: `INC-${Math.floor(i / 5)}`,
    diagnosis: `diag-${i}`,
    decidedAt: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    mode: acted ? 'auto' : 'escalate',
    action: acted ? action : null,
    support: 0.9,
    target,
    candidates: [{ action, proposedBy: ['restart_on_memory_leak'], effect: acted ? 'allow' : 'escalate', support: 0.9, pSuccess: 0.76, expectedCost: 3404.5, verdicts: [{ policy: 'restart_on_memory_leak', effect: 'allow', priority: 10, weight: 1, cost: 0, reason: 'memory-leak signature' }] }],
    resolution: { combine: 'priority', select: 'cost', winner: acted ? 'restart' : 'escalate', overruled: [] },
    guardrails: [{ name: 'kill-switch', applied: false, detail: 'not paused' }],
    bundle: { revision: 'bench-1', digest: 'sha256:bench' },
    rationale: ['memory-leak with confidence 0.90 supports a restart', 'no policy objects'],
  };
}

/** Builds the ledger (and main's actuation commits) with batched object writes; returns the repository path. */
export async function generateLedger(dir: string, keyText: string, entries = ENTRIES): Promise<string> {
  const bare = join(dir, 'ledger.git');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  const repo = await Repository.open(bare);
  const store = repo.store;
  const signer = sshSigner(keyText);
  store.beginBatch();
  let main = await writeCommit(store, { tree: await writeTreeChanges(store, null, [{ path: 'apps/README.md', content: 'GitOps\n' }]), parents: [], message: 'init\n' });
  let ledger: string | null = null;
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < entries; i++) {
    const at = new Date(start + Math.floor(i / PER_DAY) * 86_400_000 + (i % PER_DAY) * 60_000);
    const decision = decisionFor(i, at);
    let actuation: DecisionEntry['actuation'] = { commit: null, branch: null, pullRequest: null };
    if (decision.action) {
      const tree = await writeTreeChanges(store, (await readCommit(store, main)).tree, [{ path: `apps/${decision.target.service}/deployment.yaml`, content: `restartedAt: ${decision.decidedAt}\n` }]);
      const message = formatMessage(commitSubject(decision.target.service, 'restart deployment'), ['bench'], decisionTrailers(decision));
      main = await writeCommit(store, { tree, parents: [main], message, signer, when: at });
      actuation = { commit: main, branch: 'main', pullRequest: null };
    }
    ledger = await appendLedgerEntry(store, ledger, { ...decision, actuation }, signer, at);
    if ((i + 1) % FLUSH_EVERY === 0) {
      store.flush();
      store.beginBatch();
    }
  }
  store.flush();
  writeFileSync(join(bare, 'refs/heads/main'), `${main}\n`);
  execFileSync('git', ['update-ref', `refs/heads/${LEDGER_BRANCH}`, ledger!], { cwd: bare });
  store.close();
  return bare;
}

export async function bench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-bench-audit-'));
  try {
    const keyFile = join(dir, 'key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'arbiter', '-f', keyFile]);
    const allowed = join(dir, 'allowed_signers');
    writeFileSync(allowed, `arbiter@bench ${readFileSync(`${keyFile}.pub`, 'utf8')}`);
    const g0 = performance.now();
    const bare = await generateLedger(dir, readFileSync(keyFile, 'utf8'));
    const generateSeconds = (performance.now() - g0) / 1000;
    const t0 = performance.now();
    const report = await audit({ repo: bare, allowedSigners: allowed });
    const seconds = (performance.now() - t0) / 1000;
    if (!report.ok || report.decisions.length !== ENTRIES) {
      throw new Error(`bench: audit did not pass on generated history: ${JSON.stringify(report.findings.slice(0, 3))}`);
    }
    return { audit: { entries: report.decisions.length, seconds: Number(seconds.toFixed(2)), generateSeconds: Number(generateSeconds.toFixed(2)) } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
