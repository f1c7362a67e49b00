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
  });
});
