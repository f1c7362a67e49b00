// Every action parameter as an attacker would fill it: what the diagnosis suggests either becomes a bounded, verified
// edit of the service's own files, or is refused (InputError naming the field for malformed params, PlanRefusedError
// with the reason for well-formed values arbiter will not carry out; act records the latter as an escalation).
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { PlanRefusedError } from '../../actions/index.ts';
import { InputError } from '../../engine/errors.ts';
import { shopTree } from './fixture-tree.ts';
import { catalogOf, plan } from './setup.ts';

const PROD = 'apps/checkout/overlays/production/kustomization.yaml';
const refusal = async (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('scale: replica extremes stay inside the catalog bounds', () => {
  it.each([
    [{ replicas: 0 }, 2],
    [{ replicas: 10_000 }, 20],
    [{ percent: -99.9 }, 2],
    [{ percent: 1000 }, 20],
  ])('%j → %i replicas (clamped)', async (params, expected) => {
    const p = await plan('checkout', 'scale', params);
    expect(p.applied.params).toEqual({ replicas: expected });
    const doc = parse(p.edits[0]!.after!) as { replicas: Array<{ count: number }> };
    expect(doc.replicas[0]!.count).toBe(expected);
  });

  it.each([
    [{ replicas: -1 }, 'action.params.replicas'],
    [{ replicas: 1e9 }, 'action.params.replicas'],
    [{ replicas: 2.5 }, 'action.params.replicas'],
    [{ percent: -100 }, 'action.params.percent'],
    [{ percent: 1e6 }, 'action.params.percent'],
    [{ replicas: '3' }, 'action.params.replicas'],
  ])('%j is malformed: InputError at %s', async (params, where) => {
    const err = await refusal(plan('checkout', 'scale', params as never));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where).toBe(where);
  });

  it('refuses to scale a service whose catalog entry has no replica ceiling', async () => {
    const service = { ...catalogOf(shopTree()).checkout!, bounds: {} };
    const err = await refusal(plan('checkout', 'scale', { replicas: 5000 }, { service }));
    expect(err).toBeInstanceOf(PlanRefusedError);
    expect((err as Error).message).toMatch(/no bounds\.replicas\.max/);
  });

  it('refuses to scale to zero when the catalog gives no floor', async () => {
    const service = { ...catalogOf(shopTree()).checkout!, bounds: { replicas: { max: 20 } } };
    await expect(plan('checkout', 'scale', { replicas: 0 }, { service })).rejects.toThrow(/would stop it/);
  });
});

describe('shift-traffic: weights are integers in 0..100', () => {
  it.each([[-1], [101], [50.5], [Number.NaN], ['50']])('canaryWeight %j is refused', async (w) => {
    const err = await refusal(plan('checkout', 'shift-traffic', { canaryWeight: w } as never));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where).toBe('action.params.canaryWeight');
  });

  it('weights always sum to 100', async () => {
    for (const w of [0, 1, 99, 100]) {
      const p = await plan('checkout', 'shift-traffic', { canaryWeight: w });
      const weights = [...p.edits[0]!.after!.matchAll(/weight:\s*(\d+)/g)].map((m) => Number(m[1]));
      expect(weights.reduce((a, b) => a + b, 0) % 100).toBe(0);
    }
  });
});

describe('set-config: revertAfter is bounded', () => {
  const params = { configMap: 'checkout-config', key: 'LOG_LEVEL', value: 'debug' };
  it.each(['0s', '59s', '31d', '99999999999999999999d'])('revertAfter %s is refused', async (revertAfter) => {
    const err = await refusal(plan('checkout', 'set-config', { ...params, revertAfter }));
    expect(err).toBeInstanceOf(PlanRefusedError);
    expect((err as Error).message).toMatch(/outside 1m\.\.30d/);
  });
  it.each(['-1m', '1e3h', '30 m', 'P1D', '1h;rm'])('revertAfter %j is malformed', async (revertAfter) => {
    const err = await refusal(plan('checkout', 'set-config', { ...params, revertAfter }));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where).toBe('action.params.revertAfter');
  });
  it('30d and 1m are accepted', async () => {
    expect((await plan('checkout', 'set-config', { ...params, revertAfter: '1m' })).followUp?.due).toBe('2026-11-21T02:14:00Z');
    expect((await plan('checkout', 'set-config', { ...params, revertAfter: '30d' })).followUp?.due).toBe('2026-12-21T02:13:00Z');
  });
  it.each([['../x', 'action.params.configMap'], ['Checkout', 'action.params.configMap'], ['a/b', 'action.params.key'], ['', 'action.params.key']])('%j is malformed', async (name, where) => {
    const bad = where.endsWith('configMap') ? { ...params, configMap: name } : { ...params, key: name };
    const err = await refusal(plan('checkout', 'set-config', bad));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where).toBe(where);
  });
  it('an unknown key of the ConfigMap is refused, not added', async () => {
    await expect(plan('checkout', 'set-config', { ...params, key: 'DISABLE_AUTH' })).rejects.toThrow(/has no data key DISABLE_AUTH/);
  });
});

describe('patch-image: the same repository, a plain tag', () => {
  it.each([
    ['evil.example/miner:latest', /another repository|switch/i],
    ['registry.example.com:443/shop/checkout:1.4.3', /another repository|switch/i],
    ['registry.example.com/shop/checkout/../evil:1.0', /another repository|switch/i],
    ['nginx:1.27', /another repository|switch/i],
  ])('%s is refused', async (image, reason) => {
    const err = await refusal(plan('checkout', 'patch-image', { image, environment: 'production' }));
    expect(err).toBeInstanceOf(PlanRefusedError);
    expect((err as Error).message).toMatch(reason);
  });

  it.each([
    'registry.example.com/shop/checkout@sha256:' + 'a'.repeat(64),
    'registry.example.com/shop/checkout:1.4.3@sha256:' + 'a'.repeat(64),
    'registry.example.com/shop/checkout',
    'registry.example.com/shop/checkout:',
    'registry.example.com/shop/checkout:-rc',
    'registry.example.com/shop/checkout:1.4.3 # x',
    'registry.example.com/shop/checkout:1.4.3\nnewName: evil',
    'REGISTRY.example.com/shop/checkout:1.4.3',
    'registry.example.com/shop/checkout:' + 'x'.repeat(129),
  ])('%j is malformed', async (image) => {
    const err = await refusal(plan('checkout', 'patch-image', { image, environment: 'production' }));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).where).toBe('action.params.image');
  });

  it('a tag that YAML would read as a number or boolean is quoted and reads back as the tag', async () => {
    for (const tag of ['1.5', '010', 'on', '1e3']) {
      const p = await plan('checkout', 'patch-image', { image: `registry.example.com/shop/checkout:${tag}`, environment: 'production' });
      const doc = parseAllDocuments(p.edits.find((e) => e.path === PROD)!.after!)[0]!.toJS({}) as { images: Array<{ newTag: unknown }> };
      expect(doc.images[0]!.newTag).toBe(tag);
    }
  });
});
