// Runs scenarios end to end: seed a fresh bare repository, serve it over loopback smart HTTP, `act` against it, then
// check the decision, the pushed commits, their signatures, the ledger, the pull request and that Kustomize renders.
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError } from '../../engine/errors.ts';
import { actOnce, startLoopback, type ActOutcome, type Loopback, type ScenarioForge, type ScenarioForgeId } from './actuate.ts';
import { branchTips, changedBetween, checkRenders, commitTrailers, LEDGER_BRANCH, ledgerPath, readAt, verifyCommit } from './inspect.ts';
import { generateSigningKey, type ScenarioSigningKey } from './keys.ts';
import { formatDiff, matchFields, matchSet, partialMatch, type Mismatch } from './match.ts';
import { loadScenario, type DecisionExpectSpec, type ExpectSpec, type GitExpectSpec, type Scenario, type ScenarioRun } from './schema.ts';
import { seedRepository } from './seed.ts';

export interface ScenarioResult {
  name: string;
  file: string;
  status: 'pass' | 'fail';
  durationMs: number;
  diff?: string;
}

export interface RunOptions {
  concurrency?: number;
  /** Called as each scenario finishes (the pretty reporter prints as it goes). */
  onResult?: (result: ScenarioResult) => void;
  /** The forge stand-in pull requests are opened on (default github). */
  forge?: ScenarioForgeId;
}

/** Scenario files named on the command line: files as given, directories' `*.yaml`/`*.yml` (not recursive). */
export async function collectScenarioFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    const info = await stat(abs).catch(() => undefined);
    if (!info) throw new InputError('no such file or directory', p);
    if (info.isDirectory()) {
      const names = (await readdir(abs)).filter((n) => /\.ya?ml$/.test(n)).sort();
      files.push(...names.map((n) => join(abs, n)));
    } else files.push(abs);
  }
  if (files.length === 0) throw new InputError('no scenario files (*.yaml) found', paths.join(' ') || '.');
  return files;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 48) || 'scenario';
}

function checkDecision(label: string, expect: DecisionExpectSpec, outcome: ActOutcome, out: Mismatch[]): void {
  const decision = outcome.decision;
  const before = out.length;
  if (expect.mode !== undefined && expect.mode !== decision.mode) out.push({ check: `${label}mode`, expected: expect.mode, actual: decision.mode });
  if (expect.action === null && decision.action !== null) out.push({ check: `${label}action`, expected: null, actual: decision.action });
  else if (expect.action) {
    if (!decision.action) out.push({ check: `${label}action`, expected: expect.action, actual: null });
    else matchFields(`${label}action`, expect.action, decision.action, out);
  }
  if (expect.decision) matchFields(`${label}decision`, expect.decision, decision, out);
  if (out.length > before) {
    const why = decision.rationale.slice(0, 6).map((r) => `  why: ${r}`);
    out[out.length - 1]!.notes = [...(out[out.length - 1]!.notes ?? []), ...why];
  }
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

async function checkGit(
  git: GitExpectSpec,
  ctx: { gitDir: string; target: string; before: Record<string, string>; after: Record<string, string>; key: ScenarioSigningKey },
  out: Mismatch[],
): Promise<void> {
  const pattern = git.branch ?? ctx.target;
  const re = globToRegExp(pattern);
  const matches = Object.keys(ctx.after).filter((b) => re.test(b) && b !== LEDGER_BRANCH || b === pattern);
  const label = `git (${pattern})`;
  if (matches.length > 1) {
    out.push({ check: `${label}.branch`, expected: `one branch matching ${pattern}`, actual: matches });
    return;
  }
  const branch = matches[0];
  if (!branch) {
    if (git.changed && git.changed.length === 0 && !git.contains && !git.trailers && !git.signed) return;
    out.push({ check: `${label}.branch`, expected: `a branch matching ${pattern}`, actual: Object.keys(ctx.after).sort() });
    return;
  }
  const base = ctx.before[branch] ?? ctx.before[ctx.target]!;
  const tip = ctx.after[branch]!;
  const changed = await changedBetween(ctx.gitDir, base, tip);
  if (git.changed) matchSet(`${label}.changed`, git.changed, changed, out);
  for (const [path, wanted] of Object.entries(git.contains ?? {})) {
    const text = await readAt(ctx.gitDir, tip, path);
    for (const s of [wanted].flat()) {
      if (text === undefined) out.push({ check: `${label}.contains ${path}`, expected: s, actual: '(file absent)' });
      else if (!text.includes(s)) out.push({ check: `${label}.contains ${path}`, expected: s, actual: text });
    }
  }
  for (const [path, unwanted] of Object.entries(git.notContains ?? {})) {
    const text = (await readAt(ctx.gitDir, tip, path)) ?? '';
    for (const s of [unwanted].flat()) if (text.includes(s)) out.push({ check: `${label}.notContains ${path}`, expected: `no "${s}"`, actual: text });
  }
  const moved = base !== tip;
  if (git.trailers) {
    if (!moved) out.push({ check: `${label}.trailers`, expected: git.trailers, actual: '(no new commit on the branch)' });
    else matchFields(`${label}.trailers`, git.trailers, await commitTrailers(ctx.gitDir, tip), out);
  }
  if (git.signed !== undefined) {
    if (!moved) out.push({ check: `${label}.signed`, expected: git.signed, actual: '(no new commit on the branch)' });
    else {
      const verdict = await verifyCommit(ctx.gitDir, tip, ctx.key.allowedSignersFile);
      if (verdict.ok !== git.signed) out.push({ check: `${label}.signed`, expected: git.signed, actual: verdict.ok, notes: [`git verify-commit: ${verdict.detail}`] });
    }
  }
}

/** Every decision has its ledger entry on `arbiter/ledger`, recording the same decision id. */
async function checkLedger(outcomes: ActOutcome[], ctx: { gitDir: string; after: Record<string, string>; key: ScenarioSigningKey; signed: boolean }, out: Mismatch[]): Promise<void> {
  const tip = ctx.after[LEDGER_BRANCH];
  if (!tip) {
    out.push({ check: 'ledger', expected: `branch ${LEDGER_BRANCH}`, actual: '(absent)' });
    return;
  }
  for (const { decision } of outcomes) {
    const path = ledgerPath(decision.id, decision.decidedAt);
    const text = await readAt(ctx.gitDir, tip, path);
    if (text === undefined) {
      out.push({ check: 'ledger', expected: path, actual: '(no such entry)' });
      continue;
    }
    let entry: { id?: unknown; mode?: unknown; actuation?: unknown };
    try {
      entry = JSON.parse(text) as typeof entry;
    } catch {
      out.push({ check: `ledger ${path}`, expected: 'JSON', actual: text.slice(0, 200) });
      continue;
    }
    if (entry.id !== decision.id || entry.mode !== decision.mode || typeof entry.actuation !== 'object') {
      out.push({ check: `ledger ${path}`, expected: { id: decision.id, mode: decision.mode, actuation: '{commit, branch, pullRequest}' }, actual: { id: entry.id, mode: entry.mode, actuation: entry.actuation } });
    }
  }
  if (ctx.signed) {
    const verdict = await verifyCommit(ctx.gitDir, tip, ctx.key.allowedSignersFile);
    if (!verdict.ok) out.push({ check: 'ledger.signed', expected: true, actual: false, notes: [`git verify-commit: ${verdict.detail}`] });
  }
}

async function checkPullRequest(expect: ExpectSpec['pullRequest'], forge: ScenarioForge, out: Mismatch[]): Promise<void> {
  if (expect === undefined) return;
  const prs = (await forge.pullRequests()).filter((p) => p.state === 'open');
  if (expect === null) {
    if (prs.length) out.push({ check: 'pullRequest', expected: 'none', actual: prs.map((p) => `#${p.number} ${p.title}`) });
    return;
  }
  if (prs.length !== 1) {
    out.push({ check: 'pullRequest', expected: 'exactly one open pull request', actual: prs.map((p) => `#${p.number} ${p.title}`) });
    return;
  }
  const pr = prs[0]!;
  if (expect.reviewers) matchSet('pullRequest.reviewers', expect.reviewers, pr.reviewers, out);
  if (expect.labels && !partialMatch(expect.labels, pr.labels)) out.push({ check: 'pullRequest.labels', expected: expect.labels, actual: pr.labels });
  if (expect.title && !pr.title.includes(expect.title)) out.push({ check: 'pullRequest.title', expected: expect.title, actual: pr.title });
  if (expect.base && pr.base !== expect.base) out.push({ check: 'pullRequest.base', expected: expect.base, actual: pr.base });
  for (const s of [expect.body ?? []].flat()) if (!pr.body.includes(s)) out.push({ check: 'pullRequest.body', expected: s, actual: pr.body });
}

interface Environment {
  loopback: Loopback;
  key: ScenarioSigningKey;
  workDir: string;
}

async function performRun(run: ScenarioRun, scenario: Scenario, env: Environment, forge: ScenarioForge, repoName: string, dir: string, index: number): Promise<ActOutcome> {
  const diagnosisFile = join(dir, `diagnosis-${index}.yaml`);
  await writeFile(diagnosisFile, run.diagnosisText);
  return actOnce({
    diagnosisFile,
    context: run.context,
    now: String(run.context?.now ?? run.diagnosis.observedAt),
    bundleDir: scenario.bundleDir,
    repoUrl: env.loopback.repoUrl(repoName),
    branch: scenario.branch,
    signingKeyFile: env.key.privateKeyFile,
    cacheDir: join(dir, `cache-${index}`),
    forge: forge.forge,
  });
}

export async function runScenario(scenario: Scenario, env: Environment, ordinal: number): Promise<ScenarioResult> {
  const started = Date.now();
  const repoName = `${String(ordinal).padStart(3, '0')}-${slug(scenario.name)}`;
  const dir = await mkdtemp(join(env.workDir, `${repoName}-`));
  const out: Mismatch[] = [];
  let forge: ScenarioForge | undefined;
  try {
    const now = String(scenario.runs[0]!.context?.now ?? scenario.runs[0]!.diagnosis.observedAt);
    const gitDir = join(env.loopback.root, `${repoName}.git`);
    const seeded = await seedRepository(gitDir, { repoDir: scenario.repoDir, branch: scenario.branch, history: scenario.history, now });
    const before = seeded.tips;
    const github = (forge = await env.loopback.startForge(repoName, gitDir));
    const outcomes: ActOutcome[] = [];
    if (scenario.parallel) {
      outcomes.push(...(await Promise.all(scenario.runs.map((run, i) => performRun(run, scenario, env, github, repoName, dir, i)))));
    } else {
      let afterFirst: Record<string, string> | undefined;
      for (const [i, run] of scenario.runs.entries()) {
        outcomes.push(await performRun(run, scenario, env, github, repoName, dir, i));
        if (!scenario.repeated) continue;
        // DESIGN §6: a repeated request changes nothing — no new commit on any branch.
        const tips = await branchTips(gitDir);
        if (afterFirst) matchFields(`replay ${i + 1}: branches`, afterFirst, tips, out);
        else afterFirst = tips;
      }
    }
    outcomes.forEach((o, i) => checkDecision(scenario.runs.length > 1 ? `${scenario.repeated ? 'run' : 'step'} ${i + 1}: ` : '', scenario.runs[i]!.expect, o, out));
    const after = await branchTips(gitDir);
    const gitChecks = [scenario.expect.git ?? []].flat();
    const ctx = { gitDir, target: scenario.branch, before, after, key: env.key };
    for (const git of gitChecks) await checkGit(git, ctx, out);
    if (scenario.expect.ledger !== false) await checkLedger(outcomes, { ...ctx, signed: gitChecks.some((g) => g.signed) }, out);
    await checkPullRequest(scenario.expect.pullRequest, github, out);
    // Where kustomize is used, every tree arbiter wrote must still render.
    for (const [branch, tip] of Object.entries(after)) {
      if (branch === LEDGER_BRANCH || before[branch] === tip) continue;
      const changed = await changedBetween(gitDir, before[branch] ?? before[scenario.branch]!, tip);
      const render = await checkRenders(gitDir, tip, changed);
      for (const f of render.failures) out.push({ check: `render ${branch}:${f.dir}`, expected: 'kubectl kustomize succeeds', actual: f.error });
      if (render.skipped) out.push({ check: `render ${branch}`, expected: 'kubectl kustomize available', actual: render.skipped });
    }
  } catch (err) {
    out.push({ check: 'act', expected: 'completes', actual: `${(err as Error).name ?? 'Error'}: ${(err as Error).message}` });
  } finally {
    await forge?.close();
    await rm(dir, { recursive: true, force: true });
  }
  const durationMs = Date.now() - started;
  return out.length ? { name: scenario.name, file: scenario.file, status: 'fail', durationMs, diff: formatDiff(out) } : { name: scenario.name, file: scenario.file, status: 'pass', durationMs };
}

/** Loads every file first (a malformed one is an InputError before anything runs), then runs them in a pool. */
export async function runScenarios(files: string[], options: RunOptions = {}): Promise<ScenarioResult[]> {
  const scenarios = files.map((f) => loadScenario(f));
  const workDir = await mkdtemp(join(tmpdir(), 'arbiter-scenarios-'));
  const root = join(workDir, 'repos');
  await mkdir(root);
  const loopback = await startLoopback(root, options.forge ?? 'github');
  try {
    const key = await generateSigningKey(workDir);
    const env: Environment = { loopback, key, workDir };
    const results: ScenarioResult[] = new Array(scenarios.length);
    let next = 0;
    const worker = async () => {
      while (next < scenarios.length) {
        const i = next++;
        results[i] = await runScenario(scenarios[i]!, env, i);
        options.onResult?.(results[i]!);
      }
    };
    const width = Math.max(1, Math.min(options.concurrency ?? 2, scenarios.length));
    await Promise.all(Array.from({ length: width }, worker));
    return results;
  } finally {
    await loopback.close();
    await rm(workDir, { recursive: true, force: true });
  }
}
