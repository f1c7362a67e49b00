// `arbiter serve` configuration: defaults, paths resolved against the file, secrets from env/file, errors name fields.
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../engine/errors.ts';
import { loadServeConfig, validateServeConfig } from '../../serve/config.ts';
import { tempDir } from '../support/git.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function where(value: unknown, env: NodeJS.ProcessEnv = {}): string | undefined {
  try {
    validateServeConfig(value, 'serve.yaml', '/etc/arbiter', env);
  } catch (err) {
    if (err instanceof InputError) return err.where;
    throw err;
  }
  return undefined;
}

const minimal = { repo: 'gitops.git', signing: { key: 'key' } };

describe('serve config', () => {
  it('fills defaults and resolves relative paths against the config file', () => {
    const c = validateServeConfig({ ...minimal, bundle: 'policies' }, 'serve.yaml', '/etc/arbiter', {});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, branch: 'main', repo: '/etc/arbiter/gitops.git', bundle: '/etc/arbiter/policies', signing: { key: '/etc/arbiter/key' } });
    expect(c.intake).toEqual({ maxBodyBytes: 1024 * 1024 });
    expect(c.notifier).toEqual({ kind: 'log' });
    expect(c.verification).toMatchObject({ enabled: true, reconcileTimeout: '10m', pollInterval: '15s', improvementPercent: 20 });
    expect(validateServeConfig({ ...minimal, repo: 'https://git.example.invalid/shop.git' }, 's', '/x', {}).repo).toBe('https://git.example.invalid/shop.git');
  });

  it('reads secrets from the environment or a file, never from the config itself', () => {
    const file = `${tmp.path}/token`;
    writeFileSync(file, 'from-file\n');
    const c = validateServeConfig({ ...minimal, intake: { token: { env: 'T' } }, prometheus: { url: 'http://p:9090', token: { file } } }, 's', tmp.path, { T: 'from-env' });
    expect(c.intake.token).toBe('from-env');
    expect(c.prometheus?.token).toBe('from-file');
    expect(where({ ...minimal, intake: { token: 'plain' } })).toMatch(/^serve\.yaml: intake\.token/);
  });

  const errors: Array<[string, unknown, NodeJS.ProcessEnv, string]> = [
    ['repo missing', { signing: { key: 'k' } }, {}, 'serve.yaml: repo'],
    ['unknown key', { ...minimal, lisen: ':80' }, {}, 'serve.yaml: (document)'],
    ['bad listen', { ...minimal, listen: '8080' }, {}, 'serve.yaml: listen'],
    ['port out of range', { ...minimal, listen: '0.0.0.0:70000' }, {}, 'serve.yaml: listen'],
    ['bad duration', { ...minimal, verification: { pollInterval: 'often' } }, {}, 'serve.yaml: verification.pollInterval'],
    ['webhook without url', { ...minimal, notifier: { kind: 'webhook' } }, {}, 'serve.yaml: notifier.url'],
    ['unknown notifier', { ...minimal, notifier: { kind: 'pager' } }, {}, 'serve.yaml: notifier.kind'],
    ['argocd url not http', { ...minimal, argocd: { url: 'argocd:443' } }, {}, 'serve.yaml: argocd.url'],
    ['both argocd and flux', { ...minimal, argocd: { url: 'http://a' }, flux: { command: ['kubectl'] } }, {}, 'serve.yaml: flux'],
    ['improvement over 100%', { ...minimal, metrics: { errorRate: { query: 'q', improvementPercent: 150 } } }, {}, 'serve.yaml: metrics.errorRate.improvementPercent'],
    ['missing env secret', { ...minimal, argocd: { url: 'http://a', token: { env: 'NOPE' } } }, {}, 'serve.yaml: argocd.token.env'],
    ['missing secret file', { ...minimal, intake: { token: { file: '/nonexistent/token' } } }, {}, 'serve.yaml: intake.token.file'],
  ];
  for (const [name, value, env, expected] of errors) {
    it(`${name} → ${expected}`, () => {
      expect(where(value, env)).toBe(expected);
    });
  }

  it('an unreadable or malformed file names the file', () => {
    expect(() => loadServeConfig(`${tmp.path}/missing.yaml`)).toThrow(/--config: cannot read the config file/);
    writeFileSync(`${tmp.path}/bad.yaml`, 'repo: [unclosed\n');
    expect(() => loadServeConfig(`${tmp.path}/bad.yaml`)).toThrow(/bad\.yaml: not valid YAML/);
  });
});
