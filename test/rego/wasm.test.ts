// The opa-wasm path. Compiling Rego to wasm needs OPA's CLI (`opa build -t wasm`), which no package registry here
// ships; without it the compile-and-compare tests are skipped with a printed reason, and only the loader's error
// paths run (a hand-made wasm module exporting OPA's ABI is not a realistic fixture).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasOpa } from '../../bin/cli/build.ts';
import { loadBundle, type Bundle } from '../../engine/bundle.ts';
import { canonicalJson } from '../../engine/canonical.ts';
import { buildContext, catalogAndCalendar, resolveCatalogService } from '../../engine/context.ts';
import { candidateTarget, proposeCandidates } from '../../engine/decide.ts';
import { BundleError } from '../../engine/errors.ts';
import { parseDiagnosis } from '../../engine/ingest.ts';
import { createInterpreterBackend } from '../../engine/rego/backend.ts';
import { loadBundleWasm } from '../../engine/rego/wasm.ts';
import { ActionKinds, type Proposal, type Verdict } from '../../engine/types.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const REGO_EDITION = join(ROOT, 'policies/remediation-rego');
const tmp = mkdtempSync(join(tmpdir(), 'arbiter-wasm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const opaPresent = hasOpa();
if (!opaPresent) console.log('wasm.test: skipping the opa build / interpreter-vs-wasm comparison: no `opa` binary on PATH (OPA\'s CLI is needed to compile Rego to wasm)');

describe('the wasm loader without opa', () => {
  it('bytes that are not a wasm module are a BundleError naming policy.wasm', async () => {
    await expect(loadBundleWasm(new Uint8Array([0, 1, 2, 3]), 'policy.wasm')).rejects.toThrow(BundleError);
    await expect(loadBundleWasm(new Uint8Array([0, 1, 2, 3]), 'policy.wasm')).rejects.toThrow(/policy\.wasm: not a loadable OPA wasm module/);
  });

  it('a bundle shipping a broken policy.wasm is refused at load, not at decision time', async () => {
    const dir = join(tmp, 'broken');
    cpSync(REGO_EDITION, dir, { recursive: true, dereference: true });
    writeFileSync(join(dir, 'policy.wasm'), Buffer.from('\0asm not really'));
    await expect(loadBundle(dir)).rejects.toThrow(/policy\.wasm: not a loadable OPA wasm module/);
  });

  it('arbiter build without opa exits 2 with a clear message', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/arbiter'), 'build', '--bundle', REGO_EDITION, '--opa', join(tmp, 'no-such-opa')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no usable opa binary .*needs OPA's CLI to compile Rego to wasm/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('interpreter and opa-wasm agree on every bundle test input', () => {
  let interpreter: Bundle;
  let wasm: Bundle;

  beforeAll(async () => {
    if (!opaPresent) return;
    const dir = join(tmp, 'compiled');
    cpSync(REGO_EDITION, dir, { recursive: true, dereference: true });
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/arbiter'), 'build', '--bundle', dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`arbiter build failed: ${r.stderr}`);
    wasm = await loadBundle(dir);
    const loaded = await loadBundle(REGO_EDITION);
    interpreter = { ...loaded, backends: [createInterpreterBackend(loaded)] };
  }, 300_000);

  it.skipIf(!opaPresent)('arbiter build writes a policy.wasm that loadBundle evaluates through opa-wasm', () => {
    expect(wasm.wasm?.file).toBe('policy.wasm');
    expect(wasm.backends.map((b) => b.name)).toEqual(['wasm']);
    expect([...wasm.backends[0]!.policies].sort()).toEqual([...interpreter.backends[0]!.policies].sort());
  });

  it.skipIf(!opaPresent)('same proposals and verdicts for every example diagnosis, its candidates and every action kind', () => {
    const strip = (xs: Array<Proposal | Verdict>): string[] => xs.map((x) => canonicalJson({ ...x, source: undefined })).sort(); // key order is not part of the result
    const examples = join(REGO_EDITION, 'examples');
    for (const file of readdirSync(examples).filter((f) => f.endsWith('.yaml'))) {
      const diagnosis = parseDiagnosis(readFileSync(join(examples, file), 'utf8'), file);
      const sources = catalogAndCalendar({ bundleData: interpreter.data });
      const context = buildContext({ diagnosis, now: diagnosis.observedAt, bundleData: interpreter.data, ...sources });
      const [a, b] = [interpreter.backends[0]!, wasm.backends[0]!];
      expect(strip(b.propose({ diagnosis, context })), file).toEqual(strip(a.propose({ diagnosis, context })));
      const target = candidateTarget(diagnosis, context, resolveCatalogService(sources.catalog, diagnosis.target.service).entry);
      const candidates = proposeCandidates(diagnosis, context, interpreter.backends, target).map((c) => c.action);
      for (const kind of ActionKinds) candidates.push({ kind, target, params: kind === 'set-config' ? { configMap: 'cart-db', key: 'poolSize', value: 95 } : {} });
      for (const action of candidates) {
        expect(strip(b.judge({ diagnosis, context, action })), `${file} ${action.kind}`).toEqual(strip(a.judge({ diagnosis, context, action })));
      }
    }
  });
});
