// `.arbiter/*.yaml` documents kept on disk by blob id (app/context.ts): a fresh process reads the kept document
// instead of parsing YAML, yet what it returns is validated again, and a bad or missing entry is parsed afresh.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDecisionCore } from '../../app/core.ts';
import { sourcesFromTree } from '../../app/context.ts';
import { ObjectStore } from '../../gitops/objects.ts';
import { git, seedBareRepository, tempDir } from '../support/git.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const core = await loadDecisionCore();
const CATALOG = 'services:\n  checkout: { namespace: shop, criticality: high, paths: [apps/checkout/] }\n';
let n = 0;

function repo(catalog = CATALOG): { gitdir: string; tree: string; cacheFile: string } {
  const gitdir = join(tmp.path, `r${n}.git`);
  // a distinct blob per repository: the in-memory map (per process) is keyed by blob id too
  seedBareRepository(gitdir, [{ message: 'init', files: { '.arbiter/catalog.yaml': `${catalog}# repository ${n++}\n` } }]);
  const oid = git(gitdir, ['rev-parse', 'main:.arbiter/catalog.yaml']).trim();
  return { gitdir, tree: git(gitdir, ['rev-parse', 'main^{tree}']).trim(), cacheFile: join(gitdir, 'arbiter-cache', 'documents', `${oid}.json`) };
}

/** A kept entry as an earlier process would have left it. */
function keep(r: { cacheFile: string }, text: string): void {
  mkdirSync(dirname(r.cacheFile), { recursive: true });
  writeFileSync(r.cacheFile, text);
}

describe('catalog documents kept by blob id', () => {
  it('the first read keeps the parsed document under the blob id', async () => {
    const r = repo();
    const first = await sourcesFromTree(new ObjectStore(r.gitdir), r.tree, core);
    expect(first.catalog?.services.checkout).toMatchObject({ namespace: 'shop', criticality: 'high', paths: ['apps/checkout/'] });
    expect(JSON.parse(readFileSync(r.cacheFile, 'utf8'))).toEqual({ services: { checkout: { namespace: 'shop', criticality: 'high', paths: ['apps/checkout/'] } } });
  });

  it('a kept entry is read instead of parsing the YAML', async () => {
    const r = repo();
    keep(r, JSON.stringify({ services: { checkout: { namespace: 'kept', paths: ['apps/checkout/'] } } }));
    const noYaml = { ...core, documents: { ...core.documents!, parseDocument: () => { throw new Error('parsed the YAML'); } } };
    expect((await sourcesFromTree(new ObjectStore(r.gitdir), r.tree, noYaml)).catalog?.services.checkout?.namespace).toBe('kept');
  });

  it('a kept entry is validated again: one that is not a valid catalog fails like the YAML would', async () => {
    const r = repo();
    keep(r, JSON.stringify({ services: { checkout: { criticality: 'extreme' } } }));
    await expect(sourcesFromTree(new ObjectStore(r.gitdir), r.tree, core)).rejects.toThrow(/criticality/);
  });

  it('an unreadable entry is parsed afresh and replaced', async () => {
    const r = repo();
    keep(r, '{ not json');
    expect((await sourcesFromTree(new ObjectStore(r.gitdir), r.tree, core)).catalog?.services.checkout?.criticality).toBe('high');
    expect(JSON.parse(readFileSync(r.cacheFile, 'utf8')).services.checkout.criticality).toBe('high');
  });

  it('a document JSON cannot hold exactly (.inf, -0) is never kept', async () => {
    for (const extra of ['extra: .inf\n', 'extra: -0\n']) {
      const r = repo(`${CATALOG}${extra}`);
      await sourcesFromTree(new ObjectStore(r.gitdir), r.tree, core).catch(() => undefined);
      expect(existsSync(r.cacheFile)).toBe(false);
    }
  });
});
