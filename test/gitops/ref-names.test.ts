// Incident ids become one component of the pull-request branch name: every id the Diagnosis schema accepts must give
// a ref name the stock `git check-ref-format` accepts (INC:1, .hidden, x.lock, trailing dots are all valid ids).
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdString } from '../../engine/types.ts';
import { pullRequestBranch, refComponent } from '../../gitops/forge/forge.ts';

const KEY = `sha256:${'ab'.repeat(32)}`;
const validRef = (ref: string): boolean => spawnSync('git', ['check-ref-format', `refs/heads/${ref}`]).status === 0;

describe('incident ids as ref-name components', () => {
  it.each(['INC:1', 'x.lock', '.hidden', 'trailing.', 'a.b.c', 'X.LOCK', ':', '.', '-', 'INC-7', 'a:b:c.lock', '...a'])('%s', (incident) => {
    const schemaOk = IdString.safeParse(incident).success;
    const branch = pullRequestBranch(incident, 'restart', KEY);
    // ids the schema refuses never reach here; the rest must all be valid refs
    if (schemaOk) expect(validRef(branch), branch).toBe(true);
    expect(branch).toMatch(/^arbiter\/[A-Za-z0-9._-]+\/restart-abababab$/);
  });

  it('is the identity on ids that already are valid components', () => {
    expect(refComponent('INC-2026-11-21.7')).toBe('INC-2026-11-21.7');
    expect(refComponent('INC:1')).toBe('INC-1');
    expect(refComponent('.hidden')).toBe('-hidden');
    expect(refComponent('x.lock')).toBe('x-lock');
    expect(refComponent('x.')).toBe('x-');
  });

  it('every id the schema accepts gives a branch git check-ref-format accepts (property)', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9._:-]{1,20}$/).filter((s) => IdString.safeParse(s).success);
    const lockish = fc.tuple(id, fc.constantFrom('.lock', '.', ':', '.LOCK', '.lock.')).map(([a, b]) => a + b).filter((s) => IdString.safeParse(s).success);
    fc.assert(fc.property(fc.oneof(id, lockish), (incident) => validRef(pullRequestBranch(incident, 'rollback', KEY))), { numRuns: 200 });
  });
});
