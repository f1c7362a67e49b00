import { describe, expect, it } from 'vitest';
import { decide, gateMode, gateThresholds } from '../../engine/decide.ts';
import { DEFAULT_SETTINGS } from '../../engine/settings.ts';
import { bundleWith, context, diagnosis, scriptedBackend, verdict } from './fixtures.ts';

const gates = { auto: 0.85, notify: 0.65 };

describe('§4.5 gate: allow', () => {
  it.each([
    [0.85, 'auto'],
    [0.9, 'auto'],
    [0.8499, 'notify'],
    [0.65, 'notify'],
    [0.6499, 'approval'],
    [0, 'approval'],
  ])('support %s → %s', (s, mode) => expect(gateMode('allow', s, gates)).toBe(mode));
});

describe('§4.5 gate: notify', () => {
  it.each([
    [0.99, 'notify'],
    [0.65, 'notify'],
    [0.64, 'approval'],
  ])('support %s → %s', (s, mode) => expect(gateMode('notify', s, gates)).toBe(mode));
});

describe('§4.5 gate: require_approval', () => {
  it('is always approval', () => expect(gateMode('require_approval', 1, gates)).toBe('approval'));
});

describe('§4.5 gate: per-action overrides', () => {
  const settings = { ...DEFAULT_SETTINGS, gates: { auto: 0.85, notify: 0.65, perAction: { rollback: { auto: 0.9 } } } };
  it('override only the named kind and keep the other threshold', () => {
    expect(gateThresholds(settings, 'rollback')).toEqual({ auto: 0.9, notify: 0.65 });
    expect(gateThresholds(settings, 'restart')).toEqual({ auto: 0.85, notify: 0.65 });
  });
  it('a rollback at 0.88 is notify with auto 0.9, a restart at 0.88 is auto', () => {
    const run = (kind: 'rollback' | 'restart', cause: string) =>
      decide({
        diagnosis: diagnosis({ hypotheses: [{ cause, confidence: 0.88 }] }),
        context: context(),
        bundle: bundleWith([scriptedBackend([{ kind, params: {} }], { [kind]: [verdict('p', 'allow')] })], { gates: settings.gates }),
      }).mode;
    expect(run('rollback', 'bad-deployment')).toBe('notify');
    expect(run('restart', 'memory-leak')).toBe('auto');
  });
});

describe('§4.5 gate: sums at the threshold are not lost to float noise', () => {
  it('0.6 + 0.25 support reaches the 0.85 auto gate', () => {
    const d = decide({
      diagnosis: diagnosis({ hypotheses: [{ cause: 'memory-leak', confidence: 0.6 }, { cause: 'memory-leak', confidence: 0.25 }] }),
      context: context(),
      bundle: bundleWith([scriptedBackend([{ kind: 'restart', params: {} }], { restart: [verdict('p', 'allow')] })]),
    });
    expect(d.mode).toBe('auto');
  });
});
