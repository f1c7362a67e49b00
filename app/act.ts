// `act`: decide on a diagnosis and carry the decision out on a GitOps repository (DESIGN §1, §6):
// sync → context from Git → decide → idempotency → plan → signed commit (branch or PR) → ledger entry → publish,
// retried on a concurrent update (fetch, re-plan on the new tip, re-check idempotency), bounded, with jitter.
import { readFile } from 'node:fs/promises';
import { checkRender } from '../actions/render.ts';
import { PlanRefusedError, type ActionDefinition, type FileEdit, type Plan, type PlanInput } from '../actions/types.ts';
import { InputError } from '../engine/errors.ts';
import type { Catalog, CatalogService, Context, Decision, Diagnosis, GuardrailReport } from '../engine/types.ts';
import { readCommit, readPath, writeCommit, writeTreeChanges } from '../gitops/commit.ts';
import { bodyCarriesKey, pullRequestBranch, type Forge } from '../gitops/forge/forge.ts';
import { pullRequestBody } from '../gitops/forge/body.ts';
import { historyViewAt, treeViewAt } from '../gitops/history.ts';
import { findEarlierResult, type EarlierResult } from '../gitops/idempotency.ts';
import { LEDGER_BRANCH, appendLedgerEntry, ledgerHistory, type Actuation, type DecisionEntry } from '../gitops/ledger.ts';
import { actuationBody, commitSubject, decisionTrailers, formatMessage } from '../gitops/message.ts';
import { decisionNotification, LogNotifier, type NotificationOutcome, type Notifier } from '../gitops/notify.ts';
import { ConcurrentUpdateError, Repository } from '../gitops/repo.ts';
import type { Signer } from '../gitops/sign/signer.ts';

/** What a loaded bundle must offer `act` (engine/bundle.ts `Bundle`). */
export interface BundleLike {
  dir?: string;
  revision: string;
  digest: string;
  settings: { guardrails: { circuitCooldownMinutes: number } } & Record<string, unknown>;
  data: Record<string, unknown>;
}

/** The decision core and the action planners, injected so tests and other front ends can substitute them. */
export interface DecisionCore {
  parseDiagnosis(text: string, source: string): Diagnosis;
  parseContextOverride(text: string, source: string): unknown;
  loadBundle(dir: string): Promise<BundleLike>;
  parseCatalog(text: string, file: string): Catalog;
  parseCalendar(text: string, file: string): unknown;
  buildContext(input: {
    diagnosis: Diagnosis;
    now: string;
    catalog?: Catalog;
    calendar?: unknown;
    history?: Context['history'];
    killSwitch?: boolean;
    bundleData?: Record<string, unknown>;
    override?: unknown;
  }): Context;
  decide(input: { diagnosis: Diagnosis; context: Context; bundle: BundleLike; service?: CatalogService }): Decision;
  planAction(input: PlanInput): Promise<Plan>;
  getAction(kind: string): ActionDefinition;
}

/** The real decision core: engine/ decides, actions/ plans. */
export async function loadDecisionCore(): Promise<DecisionCore> {
  const [ingest, bundle, context, decide, actions] = await Promise.all([
    import('../engine/ingest.ts'),
    import('../engine/bundle.ts'),
    import('../engine/context.ts'),
    import('../engine/decide.ts'),
    import('../actions/index.ts'),
  ]);
  return {
    parseDiagnosis: ingest.parseDiagnosis,
    parseContextOverride: ingest.parseContextOverride,
    loadBundle: bundle.loadBundle,
    parseCatalog: context.parseCatalog,
    parseCalendar: context.parseCalendar,
    buildContext: (input) => context.buildContext(input as Parameters<typeof context.buildContext>[0]),
    decide: (input) => decide.decide(input as unknown as Parameters<typeof decide.decide>[0]),
    planAction: actions.planAction,
    getAction: actions.getAction,
  };
}

export interface ActOptions {
  /** The diagnosis: a file path, or its text with a source name, or an already validated Diagnosis. */
  diagnosis: string | { text: string; source: string } | Diagnosis;
  /** Explicit context values (`--context`): a file path, text with a source name, or an object. Explicit values win. */
  context?: string | { text: string; source: string } | Record<string, unknown>;
  /** A bundle directory, or an already loaded bundle. */
  bundle: string | BundleLike;
  /** Local repository path or http(s) URL. */
  repo: string;
  branch?: string;
  /** Signing is on by default: pass a signer, or `null` to write unsigned commits deliberately (tests, dry runs). */
  signer: Signer | null;
  forge?: Forge;
  cacheDir?: string;
  /** `context.now`; wins over the context's `now`. Default: the context's `now`, else the diagnosis `observedAt`. */
  now?: string;
  core?: DecisionCore;
  /** Attempts on a concurrent update (default 6). */
  maxAttempts?: number;
  /** Where `notify` and `escalate` decisions are announced (default: one line on the log). */
  notifier?: Notifier;
  /** kubectl for the render check (default: found on PATH; '' skips the check). */
  kubectl?: string;
  log?: (line: string) => void;
}

export interface ActResult {
  decision: Decision;
  actuation: Actuation & {
    /** The ledger commit recording this decision (the earlier one for a repeat). */
    ledgerCommit: string | null;
    /** True when the idempotency key was seen before: nothing was written. */
    repeated: boolean;
    /** Where the earlier result was found, for a repeat. */
    foundIn?: EarlierResult['source'];
    /** Files the actuation commit changed. */
    changed: string[];
    notes: string[];
    attempts: number;
    /** How the notification went (notify and escalate decisions); kept out of the Decision, which stays pure. */
    notification?: NotificationOutcome;
  };
}

const ACTING = new Set(['auto', 'notify', 'approval']);

async function readInput(value: string | { text: string; source: string }, what: string): Promise<{ text: string; source: string }> {
  if (typeof value !== 'string') return value;
  try {
    return { text: await readFile(value, 'utf8'), source: value };
  } catch (err) {
    throw new InputError(`cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, value);
  }
}

/** True when `path` lies inside one of the catalog `paths` (directory prefixes end in '/'). */
export function insideAllowedPaths(path: string, allowed: string[]): boolean {
  return allowed.some((raw) => {
    const prefix = raw.replace(/^\.?\//, '');
    if (!prefix) return false;
    return prefix.endsWith('/') ? path.startsWith(prefix) : path === prefix || path.startsWith(`${prefix}/`);
  });
}

/** Lowers a decision to `escalate` at the Git edge (blast radius, refused plan), saying why. */
function escalateAtEdge(decision: Decision, guardrail: string, detail: string): Decision {
  const report: GuardrailReport = { name: guardrail, applied: true, detail };
  return { ...decision, mode: 'escalate', guardrails: [...decision.guardrails, report], rationale: [...decision.rationale, `Escalated instead of acting: ${detail}`] };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function nextStep(decision: Decision, definition: ActionDefinition | undefined): string {
  const verify = definition ? ` arbiter then checks that ${definition.verification.metric} ${definition.verification.direction}s within ${definition.verification.window};` : '';
  if (decision.mode === 'approval') return `a reviewer merges or closes the pull request.${verify} a failed check reverts the change and opens the circuit.`;
  return `Argo CD / Flux apply this commit.${verify} if the service does not recover, a compensating commit reverts it and the circuit opens for this service.`;
}

interface Prepared {
  core: DecisionCore;
  diagnosis: Diagnosis;
  override: unknown;
  bundle: BundleLike;
  branch: string;
  signer: Signer | undefined;
}

async function prepare(options: ActOptions): Promise<Prepared> {
  const core = options.core ?? (await loadDecisionCore());
  let diagnosis: Diagnosis;
  if (typeof options.diagnosis === 'object' && 'apiVersion' in options.diagnosis) diagnosis = options.diagnosis;
  else {
    const input = await readInput(options.diagnosis as string | { text: string; source: string }, 'diagnosis');
    diagnosis = core.parseDiagnosis(input.text, input.source);
  }
  let override: unknown;
  if (options.context !== undefined) {
    if (typeof options.context === 'string' || ('text' in options.context && 'source' in options.context && Object.keys(options.context).length === 2)) {
      const input = await readInput(options.context as string | { text: string; source: string }, 'context');
      override = core.parseContextOverride(input.text, input.source);
    } else override = options.context;
  }
  const bundle = typeof options.bundle === 'string' ? await core.loadBundle(options.bundle) : options.bundle;
  if (options.signer === undefined) throw new InputError('signing is on by default: give a signing key', '--signing-key');
  return { core, diagnosis, override, bundle, branch: options.branch ?? 'main', signer: options.signer ?? undefined };
}

/** Parsed `.arbiter/*.yaml` by blob oid: content-addressed, so a long-running process parses each version once. */
const parsedFiles = new Map<string, unknown>();

async function readParsed<T>(repo: Repository, tree: string, path: string, parse: (text: string, file: string) => T): Promise<T | undefined> {
  const found = await readPath(repo.store, tree, path);
  if (!found || found.mode === '40000') return undefined;
  const key = `${path}@${found.oid}`;
  if (parsedFiles.has(key)) return parsedFiles.get(key) as T;
  const value = parse((await repo.store.readBlob(found.oid)).toString('utf8'), path);
  if (parsedFiles.size >= 32) parsedFiles.delete(parsedFiles.keys().next().value!);
  parsedFiles.set(key, value);
  return value;
}

/** Carries out one diagnosis on the repository; retried as a whole when another writer moved the branch. */
export async function act(options: ActOptions): Promise<ActResult> {
  const prepared = await prepare(options);
  const repo = await Repository.open(options.repo, { cacheDir: options.cacheDir });
  const maxAttempts = options.maxAttempts ?? 6;
  const log = options.log ?? (() => undefined);
  try {
    return await repo.withCacheLock(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await attemptOnce(repo, prepared, options, attempt);
        } catch (err) {
          if (!(err instanceof ConcurrentUpdateError) || attempt >= maxAttempts) throw err;
          const wait = Math.round(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random()));
          log(`${err.message}; attempt ${attempt + 1} of ${maxAttempts} in ${wait} ms`);
          await sleep(wait);
        }
      }
    });
  } finally {
    repo.store.close();
  }
}

async function attemptOnce(repo: Repository, p: Prepared, options: ActOptions, attempts: number): Promise<ActResult> {
  const { core, diagnosis, bundle, branch } = p;
  const log = options.log ?? (() => undefined);
  await repo.sync([branch, LEDGER_BRANCH]);
  // new objects stay in memory until a ref update stores them as one pack; a failed attempt leaves nothing behind
  repo.store.beginBatch();
  const targetTip = await repo.tip(branch);
  if (!targetTip) throw new InputError(`branch ${branch} does not exist in ${options.repo}`, '--branch');
  const ledgerTip = await repo.tip(LEDGER_BRANCH);
  const targetTree = (await readCommit(repo.store, targetTip)).tree;

  // context from Git: catalog, calendar and kill switch from the target branch, history from the ledger
  const catalog = await readParsed(repo, targetTree, '.arbiter/catalog.yaml', core.parseCatalog);
  const calendar = await readParsed(repo, targetTree, '.arbiter/calendar.yaml', core.parseCalendar);
  const killSwitch = (await readPath(repo.store, targetTree, '.arbiter/pause')) !== undefined;
  // like `arbiter decide`: an explicit now, else the context's, else when the diagnosis was observed (never the clock,
  // so a replayed diagnosis gets the same decision)
  const now = options.now ?? (p.override as { now?: string } | undefined)?.now ?? diagnosis.observedAt;
  const override = options.now && p.override ? { ...(p.override as object), now: options.now } : p.override;
  const history = await ledgerHistory(repo.store, ledgerTip, {
    incident: diagnosis.incident,
    service: diagnosis.target.service,
    now,
    cooldownMinutes: bundle.settings.guardrails.circuitCooldownMinutes,
  });
  const context = core.buildContext({ diagnosis, now, catalog, calendar, history, killSwitch, bundleData: bundle.data, override });
  const catalogServices = (catalog ?? ((bundle.data as { arbiter?: { catalog?: Catalog } }).arbiter?.catalog as Catalog | undefined))?.services ?? {};
  const service = catalogServices[diagnosis.target.service] as CatalogService | undefined;
  let decision = core.decide({ diagnosis, context, bundle, service });

  const earlier = await findEarlierResult({
    store: repo.store,
    key: decision.idempotencyKey,
    mode: decision.mode,
    ledgerTip,
    targetTip,
    targetBranch: branch,
    forge: options.forge,
  });
  if (earlier?.source === 'ledger') {
    log(`idempotency key ${decision.idempotencyKey} already recorded (decision ${earlier.entry!.id}); nothing to do`);
    const { actuation, ...earlierDecision } = earlier.entry!;
    return {
      decision: earlierDecision as Decision,
      actuation: { ...actuation, ledgerCommit: null, repeated: true, foundIn: 'ledger', changed: [], notes: [], attempts },
    };
  }

  let actuation: Actuation = { commit: null, branch: null, pullRequest: null };
  let changed: string[] = [];
  let notes: string[] = [];
  const publish: Array<{ branch: string; oid: string; expected: string | null; force?: boolean }> = [];
  let definition: ActionDefinition | undefined;
  let followUp: Plan['followUp'];

  if (earlier) {
    // acted before but the ledger lacks it (a crash between pushes): record it now, write nothing else
    log(`idempotency key found on ${earlier.source === 'branch' ? `branch ${branch}` : 'an open pull request'}; recording the missing ledger entry`);
    actuation = earlier.actuation;
    notes = [`repaired: the earlier actuation was found on ${earlier.source === 'branch' ? branch : 'an open pull request'} without a ledger entry`];
  } else if (ACTING.has(decision.mode) && decision.action) {
    definition = core.getAction(decision.action.kind);
    const allowed = service?.paths ?? [];
    const planned = await planWithinAllowedPaths(repo, core, decision, service, context, targetTip, targetTree, allowed, bundle, diagnosis, options.kubectl);
    if ('refused' in planned) {
      decision = escalateAtEdge(decision, planned.guardrail, planned.refused);
    } else if (planned.plan.edits.length === 0) {
      notes = ['the target branch already has this change: nothing to commit', ...planned.plan.notes];
    } else {
      const { plan } = planned;
      notes = planned.render ? [...plan.notes, planned.render] : plan.notes;
      followUp = plan.followUp;
      changed = plan.edits.map((e) => e.path).sort();
      const tree = await writeTreeChanges(repo.store, targetTree, plan.edits.map((e: FileEdit) => ({ path: e.path, content: e.after })));
      const subject = commitSubject(plan.applied.target.service, definition.describe(plan.applied));
      const message = formatMessage(subject, actuationBody(decision, diagnosis, plan.notes, nextStep(decision, definition)), decisionTrailers(decision));
      const commit = await writeCommit(repo.store, { tree, parents: [targetTip], message, signer: p.signer });
          if (decision.mode === 'approval') {
        const prBranch = pullRequestBranch(decision.incident, decision.action.kind, decision.idempotencyKey);
        await repo.sync([prBranch]);
        publish.push({ branch: prBranch, oid: commit, expected: await repo.tip(prBranch), force: true });
        actuation = { commit, branch: prBranch, pullRequest: null };
        await publishAll(repo, publish.splice(0));
        if (options.forge) {
          const pr = await options.forge.openOrUpdatePullRequest({
            branch: prBranch,
            base: branch,
            title: subject,
            body: pullRequestBody({ decision, diagnosis, edits: plan.edits, notes: plan.notes, risk: definition.risk, verification: definition.verification, base: branch }),
            labels: ['arbiter', `risk:${definition.risk}`, `action:${decision.action.kind}`],
            reviewers: service?.owners ?? [],
            idempotencyKey: decision.idempotencyKey,
          });
          if (!bodyCarriesKey(pr.body, decision.idempotencyKey)) throw new Error(`pull request #${pr.number} lost its trailers`);
          actuation.pullRequest = { number: pr.number, url: pr.url };
          log(`${pr.created ? 'opened' : 'updated'} pull request #${pr.number} ${pr.url}`);
        } else {
          notes = [...notes, `no forge configured: branch ${prBranch} is pushed, open the pull request by hand`];
        }
      } else {
        publish.push({ branch, oid: commit, expected: targetTip });
        actuation = { commit, branch, pullRequest: null };
      }
    }
  }

  // the target branch first: a ledger entry must never point at a commit that is not there
  await publishAll(repo, publish);
  const entry: DecisionEntry = { ...decision, actuation, ...(followUp ? { followUp } : {}) };
  const ledgerCommit = await recordInLedger(repo, entry, p.signer, ledgerTip, actuation.commit !== null, log);
  const result: ActResult = { decision, actuation: { ...actuation, ledgerCommit, repeated: earlier !== undefined, foundIn: earlier?.source, changed, notes, attempts } };
  // announced only once it is recorded: a receiver may look the decision up in the ledger
  const event = earlier ? undefined : decisionNotification(decision, { ...actuation, ledgerCommit }, new Date().toISOString());
  if (event) result.actuation.notification = await (options.notifier ?? new LogNotifier(log)).notify(event);
  return result;
}

/** A plan, plus a note when the render check could not run. */
type Planned = { plan: Plan; render?: string } | { refused: string; guardrail: string };

async function planWithinAllowedPaths(
  repo: Repository,
  core: DecisionCore,
  decision: Decision,
  service: CatalogService | undefined,
  context: Context,
  targetTip: string,
  targetTree: string,
  allowed: string[],
  bundle: BundleLike,
  diagnosis: Diagnosis,
  kubectl: string | undefined,
): Promise<Planned> {
  if (!service || allowed.length === 0) {
    return { refused: `service ${decision.target.service} has no catalog paths: arbiter may not edit anything for it`, guardrail: 'blast-radius' };
  }
  const scope = [...allowed, '.arbiter/'];
  const tree = await treeViewAt(repo.store, targetTree, scope);
  let plan: Plan;
  try {
    plan = await core.planAction({
      tree,
      action: decision.action!,
      service,
      context,
      history: historyViewAt(repo.store, targetTip, scope),
      settings: bundle.settings,
      environment: diagnosis.target.environment,
    } as PlanInput);
  } catch (err) {
    if (err && typeof err === 'object' && 'code' in err && err.code === 'PlanRefused') return { refused: String((err as unknown as Error).message), guardrail: 'plan-refused' };
    throw err;
  }
  const outside = plan.edits.filter((e) => !insideAllowedPaths(e.path, allowed));
  if (outside.length) {
    return { refused: `the plan edits ${outside.map((e) => e.path).join(', ')}, outside the catalog paths ${allowed.join(', ')}`, guardrail: 'blast-radius' };
  }
  if (plan.edits.length === 0) return { plan };
  // DESIGN §5: the edited tree must still render where Kustomize is used
  try {
    const render = await checkRender(tree, plan.edits, service, kubectl === undefined ? {} : { kubectl });
    return render.status === 'skipped' ? { plan, render: `render check ${render.detail}` } : { plan };
  } catch (err) {
    if (err instanceof PlanRefusedError) return { refused: err.message, guardrail: 'plan-refused' };
    throw err;
  }
}

async function publishAll(repo: Repository, updates: Array<{ branch: string; oid: string; expected: string | null; force?: boolean }>): Promise<void> {
  for (const u of updates.splice(0)) await repo.updateBranch(u.branch, u.oid, u.expected, { force: u.force });
}

/**
 * Appends the entry to the ledger and publishes it. After the target branch moved, a ledger conflict only re-appends
 * the entry on the new ledger tip (the actuation stands); if that keeps failing the error says so, and the next
 * `act` for the same key finds the actuation commit on the branch and records the missing entry.
 */
async function recordInLedger(repo: Repository, entry: DecisionEntry, signer: Signer | undefined, ledgerTip: string | null, actuated: boolean, log: (line: string) => void): Promise<string> {
  let tip = ledgerTip;
  for (let attempt = 1; ; attempt++) {
    repo.store.beginBatch();
    const oid = await appendLedgerEntry(repo.store, tip, entry, signer);
    try {
      await repo.updateBranch(LEDGER_BRANCH, oid, tip);
      return oid;
    } catch (err) {
      if (!(err instanceof ConcurrentUpdateError) || !actuated) throw err;
      if (attempt >= 8) {
        throw new Error(
          `commit ${entry.actuation.commit} landed on ${entry.actuation.branch} but the ledger entry could not be recorded (${err.message}); ` +
            'run the same `arbiter act` again: it finds the commit and records the entry',
        );
      }
      log(`ledger moved; re-appending decision ${entry.id}`);
      await sleep(Math.round(30 * attempt * (0.5 + Math.random())));
      await repo.sync([LEDGER_BRANCH]);
      tip = await repo.tip(LEDGER_BRANCH);
    }
  }
}
