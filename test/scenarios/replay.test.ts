// Replay metrics on a tiny set whose numbers were worked out by hand from the shipped bundle's rules.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, type Bundle } from '../../engine/bundle.ts';
import { loadReplaySet, parseGates, replay, sweepGates, type ReplaySet } from '../../scenarios/runner/replay.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function diagnosis(id: string, service: string, observedAt: string, hypotheses: unknown[], signals?: Record<string, number>) {
  return { apiVersion: 'arbiter.dev/v1', kind: 'Diagnosis', id, incident: `INC-${id}`, observedAt, target: { service, namespace: 'shop' }, ...(signals ? { signals } : {}), hypotheses };
}

// A: night leak 0.91 → arbiter auto restart; humans auto restart (agree, agree).
// B: business-hours leak → arbiter escalate, no action; humans approval restart (disagree, disagree).
// C: night leak 0.75 → arbiter notify restart; humans approval restart (disagree, agree, false autonomy).
// D: partition → arbiter escalate, no action; humans escalate, nothing (agree, agree).
const CASES = {
  'a.yaml': { diagnosis: diagnosis('a', 'cart', '2026-11-21T02:13:00Z', [{ cause: 'memory-leak', confidence: 0.91 }]), truth: { mode: 'auto', action: 'restart' } },
  'b.yaml': { diagnosis: diagnosis('b', 'cart', '2026-11-24T09:30:00Z', [{ cause: 'memory-leak', confidence: 0.9 }]), truth: { mode: 'approval', action: 'restart' } },
  'c.yaml': { diagnosis: diagnosis('c', 'checkout', '2026-11-21T02:13:00Z', [{ cause: 'memory-leak', confidence: 0.75 }]), truth: { mode: 'approval', action: 'restart' } },
  'd.yaml': {
    diagnosis: diagnosis('d', 'cart', '2026-11-21T02:13:00Z', [
      { cause: 'memory-leak', confidence: 0.62, suggestedActions: [{ kind: 'restart' }] },
      { cause: 'network-partition', confidence: 0.6 },
    ]),
    truth: { mode: 'escalate', action: null },
  },
};

let dir: string;
let set: ReplaySet;
let bundle: Bundle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'arbiter-replay-test-'));
  writeFileSync(join(dir, 'replay.yaml'), `repo: ${join(ROOT, 'scenarios/fixtures/shop')}\n`);
  for (const [name, doc] of Object.entries(CASES)) writeFileSync(join(dir, name), JSON.stringify(doc));
  set = loadReplaySet(dir);
  bundle = await loadBundle(join(ROOT, 'policies/remediation'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('replay metrics at the bundle gates (0.85 / 0.65)', () => {
  it('agreement per mode and per action', () => {
    const { metrics, outcomes } = replay(set, bundle);
    expect(outcomes.map((o) => `${o.arbiter.mode}/${o.arbiter.action}`)).toEqual(['auto/restart', 'escalate/none', 'notify/restart', 'escalate/none']);
    expect(metrics.mode.agreement).toEqual({ cases: 4, agreed: 2, rate: 0.5 });
    expect(metrics.mode.byTruth).toEqual({
      approval: { cases: 2, agreed: 0, rate: 0 },
      auto: { cases: 1, agreed: 1, rate: 1 },
      escalate: { cases: 1, agreed: 1, rate: 1 },
    });
    expect(metrics.mode.confusion).toEqual({ auto: { auto: 1 }, approval: { escalate: 1, notify: 1 }, escalate: { escalate: 1 } });
    expect(metrics.action.agreement).toEqual({ cases: 4, agreed: 3, rate: 0.75 });
    expect(metrics.action.byTruth.restart).toEqual({ cases: 3, agreed: 2, rate: 0.6667 });
    expect(metrics.action.byTruth.none).toEqual({ cases: 1, agreed: 1, rate: 1 });
  });

  it('false autonomy: autonomous decisions where humans did not act unattended with that action', () => {
    const { metrics, outcomes } = replay(set, bundle);
    expect(outcomes.filter((o) => o.falseAutonomy).map((o) => o.file)).toEqual(['c.yaml']);
    expect(metrics.autonomy).toEqual({ autonomous: 2, rate: 0.5 });
    expect(metrics.falseAutonomy).toEqual({ count: 1, autonomous: 2, rate: 0.5, humanNonAutonomous: 3 });
  });
});

describe('replay metrics as the gates move', () => {
  it('stricter gates (0.95 / 0.8) turn C into approval and A into notify: no false autonomy left', () => {
    const { metrics, outcomes } = replay(set, bundle, { auto: 0.95, notify: 0.8 });
    expect(outcomes.map((o) => o.arbiter.mode)).toEqual(['notify', 'escalate', 'approval', 'escalate']);
    expect(metrics.mode.agreement.agreed).toBe(2);
    expect(metrics.falseAutonomy).toEqual({ count: 0, autonomous: 1, rate: 0, humanNonAutonomous: 3 });
  });

  it('looser gates (0.7 / 0.5) make C automatic, still a false autonomy', () => {
    const { outcomes, metrics } = replay(set, bundle, { auto: 0.7, notify: 0.5 });
    expect(outcomes[2]!.arbiter.mode).toBe('auto');
    expect(metrics.falseAutonomy.rate).toBe(0.5);
  });

  it('the sweep moves both gates together, keeping their gap, and contains the current setting', () => {
    const rows = sweepGates({ auto: 0.85, notify: 0.65 });
    expect(rows[0]).toEqual({ auto: 0.5, notify: 0.3 });
    expect(rows.at(-1)).toEqual({ auto: 1, notify: 0.8 });
    expect(rows).toContainEqual({ auto: 0.85, notify: 0.65 });
    for (const r of rows) expect(Math.round((r.auto - r.notify) * 100)).toBe(20);
    const report = replay(set, bundle);
    const current = report.sweep.find((r) => r.auto === 0.85)!;
    expect(current).toMatchObject({ autonomyRate: 0.5, modeAgreement: 0.5, actionAgreement: 0.75, falseAutonomyRate: 0.5, falseAutonomous: 1 });
  });
});

describe('replay input', () => {
  it('parses --gates and refuses anything else', () => {
    expect(parseGates('auto=0.9,notify=0.7')).toEqual({ auto: 0.9, notify: 0.7 });
    expect(() => parseGates('auto=1.5')).toThrow(/--gates/);
    expect(() => parseGates('strict')).toThrow(/--gates/);
  });

  it('names the file and field of a bad case', () => {
    const bad = mkdtempSync(join(tmpdir(), 'arbiter-replay-bad-'));
    try {
      writeFileSync(join(bad, 'x.yaml'), JSON.stringify({ ...CASES['a.yaml'], truth: { mode: 'sometimes', action: null } }));
      expect(() => loadReplaySet(bad)).toThrow(/x\.yaml: truth\.mode/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it('arbiter replay --json prints one document; a bad --gates exits 2', () => {
    const ok = spawnSync(process.execPath, [join(ROOT, 'bin/arbiter'), 'replay', dir, '--json'], { cwd: ROOT, encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).metrics.falseAutonomy.count).toBe(1);
    const bad = spawnSync(process.execPath, [join(ROOT, 'bin/arbiter'), 'replay', dir, '--gates', 'auto=2'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--gates');
  });

  it('the shipped replay set loads and is decided', () => {
    const shipped = loadReplaySet(join(ROOT, 'scenarios/replay'));
    expect(shipped.cases.length).toBeGreaterThanOrEqual(12);
    const report = replay(shipped, bundle);
    expect(report.metrics.cases).toBe(shipped.cases.length);
  });
});
