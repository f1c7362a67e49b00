import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('arbiter demo', () => {
  it('runs the whole loop: decisions, a signed commit with trailers, the ledger, a passing audit', () => {
    const r = spawnSync(process.execPath, ['bin/arbiter', 'demo'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/AUTO rollback shop\/checkout/);
    expect(r.stdout).toMatch(/already done → nothing written \(found in ledger\)/);
    expect(r.stdout).toMatch(/^Arbiter-Idempotency-Key: sha256:[0-9a-f]{64}$/m);
    expect(r.stdout).toMatch(/git verify-commit: OK/);
    expect(r.stdout).toMatch(/^[0-9a-f]{7} G arbiter\(checkout\): ledger auto rollback$/m);
    expect(r.stdout).toMatch(/audit passed/);
    // the approval path: one pull request on the GitHub stand-in, its first paragraph says what and why
    expect(r.stdout).toMatch(/^── pull request #1 \(GitHub stand-in\)/m);
    expect(r.stdout).toMatch(/^labels: arbiter, risk:low, action:restart {3}reviewers: team-payments, sre-oncall/m);
    expect(r.stdout).toMatch(/^\*\*restart on `payments`: .*\*\* A human must decide because policy `critical_needs_human` requires approval/m);
  });
});
