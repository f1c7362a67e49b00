// Issue 15 item 5: every shipped example diagnosis (policies/remediation/examples/) acts as documented against the
// shipped fixture repository scenarios/fixtures/shop. The documented outcome is machine-readable in
// policies/remediation/examples/expected.json; `arbiter decide --repo <bare repo>` reads the catalog as `act` does.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { act } from '../../app/act.ts';
import { DEFAULT_BUNDLE } from '../../app/bundle.ts';
import { loadDecisionInputs } from '../../bin/cli/decide.ts';
import { decide } from '../../engine/decide.ts';
import { filesOf, git, seedBareRepository, tempDir } from '../support/git.ts';

const ROOT = join(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'policies/remediation/examples');
const FIXTURE = join(ROOT, 'scenarios/fixtures/shop');

interface Expected {
  mode: string;
  action: string | null;
  changed: string[];
  history?: Array<{ message: string; file: string; from: string; to: string }>;
}
const expected = JSON.parse(readFileSync(join(EXAMPLES, 'expected.json'), 'utf8')) as Record<string, Expected>;
const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();
const tmp = tempDir('arbiter-examples-');
afterAll(() => tmp.cleanup());

/** A bare copy of the fixture with the example's documented history on top. */
function fixtureRepository(name: string, history: Expected['history'] = []): string {
  const files = filesOf(FIXTURE);
  const commits: Array<{ message: string; files: Record<string, string | null> }> = [{ message: 'shop: initial manifests', files }];
  let current = { ...files };
  for (const h of history) {
    const before = current[h.file];
    if (before === undefined || !before.includes(h.from)) throw new Error(`expected.json history: ${h.file} has no ${JSON.stringify(h.from)}`);
    current = { ...current, [h.file]: before.replace(h.from, h.to) };
    commits.push({ message: h.message, files: { [h.file]: current[h.file]! } });
  }
  const bare = join(tmp.path, `${name}.git`);
  seedBareRepository(bare, commits);
  return bare;
}

describe('shipped examples against scenarios/fixtures/shop', () => {
  it('every example has a documented expectation, and every expectation an example', () => {
    expect(Object.keys(expected).filter((k) => !k.startsWith('$')).sort()).toEqual(examples);
  });

  for (const file of examples) {
    it(`${file} acts as documented`, { timeout: 60_000 }, async () => {
      const want = expected[file]!;
      const bare = fixtureRepository(file.replace(/\.yaml$/, ''), want.history);
      const mainBefore = git(bare, ['rev-parse', 'main']).trim();

      // decide --repo <bare repo>: the catalog and calendar from main's tip, as act reads them
      const inputs = await loadDecisionInputs({ diagnosisFile: join(EXAMPLES, file), repoDir: bare });
      const decided = decide(inputs);
      expect({ mode: decided.mode, action: decided.action?.kind ?? null }).toEqual({ mode: want.mode, action: want.action });

      const { decision, actuation } = await act({ diagnosis: join(EXAMPLES, file), bundle: DEFAULT_BUNDLE, repo: bare, signer: null, cacheDir: join(tmp.path, 'cache') });
      expect({ mode: decision.mode, action: decision.action?.kind ?? null }).toEqual({ mode: want.mode, action: want.action });
      const changed = git(bare, ['diff', '--name-only', mainBefore, 'main']).trim();
      expect(changed ? changed.split('\n') : []).toEqual(want.changed);
      if (want.mode === 'approval') expect(actuation.branch).toMatch(/^arbiter\//);
    });
  }
});
