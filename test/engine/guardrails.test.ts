import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyGuardrails } from '../../engine/decide.ts';
import { DEFAULT_SETTINGS } from '../../engine/settings.ts';
import { Modes, modeRank, type Action, type ActingMode, type CatalogService } from '../../engine/types.ts';
import { context } from './fixtures.ts';

const restart: Action = { kind: 'restart', target: { service: 'checkout', namespace: 'shop' }, params: {} };
const service: CatalogService = { namespace: 'shop', criticality: 'high', owners: [], paths: ['apps/checkout/'], bounds: { replicas: { min: 2, max: 20 }, poolSize: { max: 80 } } };
const run = (mode: ActingMode, over: Parameters<typeof context>[0] = {}, action: Action | null = restart, svc: CatalogService | undefined = service, settings = DEFAULT_SETTINGS) =>
  applyGuardrails({ mode, action, context: context(over), settings, ...(svc ? { service: svc } : {}) });
const report = (r: ReturnType<typeof run>, name: string) => r.reports.find((g) => g.name === name)!;

describe('§4.6 guardrails: every guardrail is reported', () => {
  it('lists all six with applied false when nothing fires', () => {
    const r = run('auto');
    expect(r.reports.map((g) => [g.name, g.applied])).toEqual([
      ['kill-switch', false],
      ['circuit-breaker', false],
      ['incident-action-limit', false],
      ['service-rate-limit', false],
      ['blast-radius', false],
      ['parameter-bounds', false],
    ]);
    expect(r.mode).toBe('auto');
    for (const g of r.reports) expect(g.detail).toMatch(/\.$/);
  });
});

describe('§4.6 guardrails: kill switch', () => {
  it('caps at approval (from the repo)', () => {
    const r = run('auto', { killSwitch: true });
    expect(r.mode).toBe('approval');
    expect(report(r, 'kill-switch')).toMatchObject({ applied: true });
  });
  it('caps at approval (from arbiter.yaml)', () => {
    expect(run('notify', {}, restart, service, { ...DEFAULT_SETTINGS, guardrails: { ...DEFAULT_SETTINGS.guardrails, killSwitch: true } }).mode).toBe('approval');
  });
  it('never raises escalate', () => expect(run('escalate', { killSwitch: true }).mode).toBe('escalate'));
});

describe('§4.6 guardrails: circuit breaker', () => {
  it('caps at approval while the circuit is open', () => {
    const r = run('auto', { history: { circuitOpen: true } });
    expect(r.mode).toBe('approval');
    expect(report(r, 'circuit-breaker').detail).toContain('30 min');
  });
});

describe('§4.6 guardrails: per-incident action limit', () => {
  it('escalates at the limit, not below it', () => {
    expect(run('auto', { history: { incidentActions: 8 } }).mode).toBe('escalate');
    expect(run('auto', { history: { incidentActions: 7 } }).mode).toBe('auto');
  });
});

describe('§4.6 guardrails: per-service rate limit', () => {
  it('caps at approval at 3 actions in the last hour', () => {
    expect(run('auto', { history: { serviceActionsLastHour: 3 } }).mode).toBe('approval');
    expect(run('notify', { history: { serviceActionsLastHour: 2 } }).mode).toBe('notify');
  });
});

describe('§4.6 guardrails: blast radius', () => {
  it('escalates an action outside the catalog namespace', () => {
    const r = run('auto', {}, { ...restart, target: { service: 'checkout', namespace: 'kube-system' } });
    expect(r.mode).toBe('escalate');
    expect(report(r, 'blast-radius').detail).toContain('kube-system');
  });
  it('escalates when a catalog path leaves the repository', () => {
    expect(run('auto', {}, restart, { ...service, paths: ['../etc/'] }).mode).toBe('escalate');
  });
  it('is not applied without a catalog entry', () => {
    expect(report(run('auto', {}, restart, undefined), 'blast-radius').applied).toBe(false);
  });
});

describe('§4.6 guardrails: parameter bounds', () => {
  it('clamps replicas to the bound and says so', () => {
    const r = run('auto', {}, { kind: 'scale', target: restart.target, params: { replicas: 50 } });
    expect(r.action?.params).toEqual({ replicas: 20 });
    expect(r.mode).toBe('auto');
    expect(report(r, 'parameter-bounds')).toMatchObject({ applied: true });
    expect(report(r, 'parameter-bounds').detail).toContain('replicas 50 → 20');
  });
  it('clamps a set-config value to bounds.<key>.max', () => {
    const r = run('auto', {}, { kind: 'set-config', target: restart.target, params: { configMap: 'c', key: 'poolSize', value: '120' } });
    expect(r.action?.params.value).toBe('80');
  });
  it('leaves parameters inside the bounds alone', () => {
    expect(run('auto', {}, { kind: 'scale', target: restart.target, params: { replicas: 1 + 2 } }).action?.params).toEqual({ replicas: 3 });
  });
});

describe('§4.6 guardrails: properties', () => {
  it('never raise the mode', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<ActingMode>(...Modes),
        fc.boolean(),
        fc.boolean(),
        fc.nat(12),
        fc.nat(6),
        fc.constantFrom('shop', 'other'),
        fc.integer({ min: -10, max: 100 }),
        (mode, killSwitch, circuitOpen, incidentActions, serviceActionsLastHour, ns, replicas) => {
          const r = applyGuardrails({
            mode,
            action: { kind: 'scale', target: { service: 'checkout', namespace: ns }, params: { replicas } },
            context: context({ killSwitch, history: { circuitOpen, incidentActions, serviceActionsLastHour } }),
            settings: DEFAULT_SETTINGS,
            service,
          });
          expect(modeRank(r.mode)).toBeGreaterThanOrEqual(modeRank(mode));
          expect(r.reports).toHaveLength(6);
        },
      ),
    );
  });
});
