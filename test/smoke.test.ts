import { describe, expect, it } from 'vitest';
import { Diagnosis } from '../engine/types.ts';

describe('Diagnosis schema', () => {
  it('rejects a path-like incident id', () => {
    const r = Diagnosis.safeParse({
      apiVersion: 'arbiter.dev/v1', kind: 'Diagnosis', id: 'd1', incident: '../x', observedAt: '2026-11-21T02:13:00Z',
      target: { service: 'checkout' }, hypotheses: [{ cause: 'memory-leak', confidence: 0.9 }],
    });
    expect(r.success).toBe(false);
  });
});
