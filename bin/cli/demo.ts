// `arbiter demo`: the whole loop on a temporary local repository — a realistic GitOps tree with a catalog and a
// calendar, a freshly generated signing key, the shipped bundle and its example diagnoses: decide, sign, commit,
// record in the ledger, audit. Prints what an operator wants to see.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { InputError } from '../../engine/errors.ts';
import { act, type ActResult } from '../../app/act.ts';
import { DEFAULT_BUNDLE } from '../../app/bundle.ts';
import { loadDecisionCore } from '../../app/core.ts';
import { audit, formatAuditReport } from '../../gitops/audit.ts';
import { readCommit, writeCommit, writeTreeChanges } from '../../gitops/commit.ts';
import { FOLD_TITLES, foldOpen } from '../../gitops/forge/body.ts';
import { GitHubForge } from '../../gitops/forge/github.ts';
import { LEDGER_BRANCH } from '../../gitops/ledger.ts';
import { startGitHubStandin } from '../../scenarios/runner/github-standin.ts';
import { Repository } from '../../gitops/repo.ts';
import { generateSshKey, sshSigner } from '../../gitops/sign/sshsig.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = join(ROOT, 'scenarios/fixtures/shop');
const EXAMPLES = join(DEFAULT_BUNDLE, 'examples');

/** The incidents the demo replays, in order, with the clock each happens at. */
const STORY: Array<{ example: string; now: string; headline: string }> = [
  { example: 'bad-deployment.yaml', now: '2026-11-21T02:13:00Z', headline: 'checkout 1.4.2 raises the error rate at night' },
  { example: 'memory-leak-off-hours.yaml', now: '2026-11-21T02:20:00Z', headline: 'checkout leaks memory (same night)' },
  { example: 'network-partition.yaml', now: '2026-11-21T02:40:00Z', headline: 'a network partition is suspected' },
  { example: 'bad-deployment.yaml', now: '2026-11-21T02:45:00Z', headline: 'the first diagnosis arrives again (replay)' },
  { example: 'critical-service.yaml', now: '2026-11-21T02:50:00Z', headline: 'payments (critical) leaks memory: a pull request for a human' },
];
/** The demo's GitHub: a loopback stand-in speaking GitHub's REST API (pull requests, labels, reviewers). */
const DEMO_REPOSITORY = 'shop/gitops';

function filesOf(dir: string, base = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(out, filesOf(dir, rel));
    else if (entry.isFile()) out[rel] = readFileSync(join(dir, rel), 'utf8');
  }
  return out;
}

/** A bare repository holding the shop tree, then a release commit that deploys checkout 1.4.2. */
async function seedRepository(path: string): Promise<void> {
  mkdirSync(join(path, 'objects'), { recursive: true });
  mkdirSync(join(path, 'refs', 'heads'), { recursive: true });
  writeFileSync(join(path, 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(path, 'config'), '[core]\n\trepositoryformatversion = 0\n\tbare = true\n');
  const repo = await Repository.open(path);
  const release = { name: 'release-bot', email: 'release@shop.example' };
  const files = filesOf(FIXTURE);
  const first = await writeCommit(repo.store, {
    tree: await writeTreeChanges(repo.store, null, Object.entries(files).map(([p, content]) => ({ path: p, content }))),
    parents: [],
    message: 'shop: GitOps tree for the storefront, checkout, cart and payments\n',
    author: release,
    when: new Date('2026-11-20T09:00:00Z'),
  });
  const overlay = 'apps/checkout/overlays/production/kustomization.yaml';
  const second = await writeCommit(repo.store, {
    tree: await writeTreeChanges(repo.store, (await readCommit(repo.store, first)).tree, [{ path: overlay, content: files[overlay]!.replace('newTag: "1.4.1"', 'newTag: "1.4.2"') }]),
    parents: [first],
    message: 'deploy checkout 1.4.2 to production\n',
    author: release,
    when: new Date('2026-11-21T02:05:00Z'),
  });
  await repo.updateBranch('main', second, null);
}

function git(repo: string, args: string[], env: Record<string, string> = {}): { ok: boolean; out: string } {
  const r = spawnSync('git', ['--git-dir', repo, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.error) return { ok: false, out: '(git is not installed: skipped)' };
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trimEnd() };
}

function line(text = ''): void {
  process.stdout.write(`${text}\n`);
}

function describe(result: ActResult): string {
  const { decision: d, actuation: a } = result;
  const what = d.action ? `${d.action.kind} ${d.action.target.namespace}/${d.action.target.service}` : 'no action';
  const parts = [`${d.mode.toUpperCase()} ${what} (support ${d.support.toFixed(2)})`];
  if (a.repeated) parts.push(`already done → nothing written (found in ${a.foundIn})`);
  else if (a.commit) parts.push(`commit ${a.commit.slice(0, 10)} on ${a.branch}`);
  else parts.push('no change to the GitOps tree');
  return parts.join(' · ');
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: { keep: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } }));
  } catch (err) {
    throw new InputError(`${(err as Error).message}\nusage: arbiter demo [--keep]`);
  }
  if (values.help) {
    line('usage: arbiter demo [--keep]    (--keep leaves the temporary repository for you to explore)');
    return 0;
  }
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-demo-'));
  const repoPath = join(dir, 'shop.git');
  try {
    await seedRepository(repoPath);
    const key = generateSshKey('arbiter-demo');
    writeFileSync(join(dir, 'arbiter_ed25519'), key.privateKey, { mode: 0o600 });
    const allowed = join(dir, 'allowed_signers');
    writeFileSync(allowed, `arbiter@arbiter.invalid ${key.publicKey}\n`);
    const signer = sshSigner(key.privateKey);
    const core = await loadDecisionCore();
    const bundle = await core.loadBundle(DEFAULT_BUNDLE);

    line(`arbiter demo — GitOps repository ${repoPath}`);
    line(`bundle ${bundle.revision} (${DEFAULT_BUNDLE.replace(ROOT, '')}), signing key ${signer.keyId}`);
    line();
    const results: ActResult[] = [];
    const github = await startGitHubStandin({ repos: { [DEMO_REPOSITORY]: repoPath } });
    const forge = new GitHubForge({ baseUrl: github.url, repository: DEMO_REPOSITORY, token: 'demo' });
    try {
    for (const step of STORY) {
      const result = await act({ diagnosis: join(EXAMPLES, step.example), bundle, repo: repoPath, signer, core, now: step.now, forge });
      results.push(result);
      line(`▸ ${step.now}  ${step.headline}`);
      line(`  ${describe(result)}`);
      for (const r of result.decision.rationale.slice(0, 3)) line(`    - ${r}`);
      for (const g of result.decision.guardrails.filter((g) => g.applied)) line(`    ! guardrail ${g.name}: ${g.detail}`);
      line();
    }
    const pull = github.pulls(DEMO_REPOSITORY)[0];
    if (pull) {
      line(`── pull request #${pull.number} (GitHub stand-in) ──────────────────────────────────────`);
      line(`${pull.title}`);
      line(`labels: ${pull.labels.join(', ')}   reviewers: ${[...pull.reviewers, ...pull.teamReviewers].join(', ') || '(none)'}   head: ${pull.head}`);
      line();
      // what the reviewer sees before unfolding anything
      const folded = pull.body.indexOf(foldOpen(FOLD_TITLES[0]));
      line((folded > 0 ? pull.body.slice(0, folded) : pull.body).trimEnd());
      line(`▸ folded: ${FOLD_TITLES.join('; ')} — then the changes, rollback and verification sections`);
      line();
    }
    } finally {
      await github.close();
    }

    const acted = results.find((r) => r.actuation.commit && r.actuation.branch === 'main' && !r.actuation.repeated);
    const verifyEnv = { GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'gpg.format', GIT_CONFIG_VALUE_0: 'ssh', GIT_CONFIG_KEY_1: 'gpg.ssh.allowedSignersFile', GIT_CONFIG_VALUE_1: allowed };
    if (acted) {
      line('── the actuation commit on main ─────────────────────────────────────────');
      line(git(repoPath, ['log', '-1', '--stat', '--format=commit %H%nAuthor: %an <%ae>%n%n%B', acted.actuation.commit!]).out);
      const verified = git(repoPath, ['verify-commit', '-v', acted.actuation.commit!], verifyEnv);
      line();
      line(`git verify-commit: ${verified.ok ? 'OK' : 'FAILED'} — ${verified.out.split('\n').find((l) => /signature/i.test(l)) ?? verified.out}`);
      line();
    }
    line('── git log arbiter/ledger ───────────────────────────────────────────────');
    line(git(repoPath, ['log', '--format=%h %G? %s', LEDGER_BRANCH], verifyEnv).out);
    line(git(repoPath, ['ls-tree', '-r', '--name-only', LEDGER_BRANCH, 'decisions/']).out);
    line();
    line('── arbiter audit ────────────────────────────────────────────────────────');
    const report = await audit({ repo: repoPath, allowedSigners: allowed });
    process.stdout.write(formatAuditReport(report));
    if (values.keep) {
      line();
      line(`kept: ${dir}  (try: git --git-dir ${repoPath} log --all --graph --oneline)`);
    }
    return report.ok ? 0 : 1;
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}
