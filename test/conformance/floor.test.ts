// CI gate: OPA's compliance cases must not regress below the recorded floor (raise floor.json as passes grow).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runSuite } from './rego-conformance.ts';

const floor = JSON.parse(readFileSync(new URL('./floor.json', import.meta.url), 'utf8')) as { passed: number };

describe('Rego conformance floor', () => {
  it(`passes at least ${floor.passed} of OPA's compliance cases`, () => {
    const report = runSuite();
    expect(report.passed).toBeGreaterThanOrEqual(floor.passed);
  }, 300_000);
});
