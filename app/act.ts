// `act`: decide on a diagnosis and carry the decision out on a GitOps repository (DESIGN §1, §6):
// sync → context from Git → decide → idempotency → plan → signed commit (branch or PR) → publish → ledger entry,
// retried as a whole on a concurrent update (fetch, re-plan on the new tip, re-check idempotency). The Git writes
// go through app/transaction.ts; the context comes from app/context.ts.
import { isInsidePaths } from '../actions/manifests.ts';
import { checkRender } from '../actions/render.ts';
import { PlanRefusedError, type ActionDefinition, type FileEdit, type Plan, type VerificationSpec } from '../actions/types.ts';
import { chooseVerification } from '../actions/verification.ts';
import { InputError, InternalError } from '../engine/errors.ts';
import type { ContextOverride } from '../engine/ingest.ts';
import type { CatalogService, Context, Decision, Diagnosis, GuardrailReport } from '../engine/types.ts';
import { readCommit } from '../gitops/commit.ts';
import { bodyCarriesKey, pullRequestBranch, type Forge } from '../gitops/forge/forge.ts';
import { pullRequestBody } from '../gitops/forge/body.ts';
import { proposalOf } from '../gitops/proposal.ts';
import { historyViewAt, treeViewAt } from '../gitops/history.ts';
import { findEarlierResult, type EarlierResult } from '../gitops/idempotency.ts';
import { LEDGER_BRANCH, ledgerHistory, type Actuation, type DecisionEntry } from '../gitops/ledger.ts';
import { actuationBody, commitSubject, decisionTrailers, formatMessage } from '../gitops/message.ts';
import { decisionNotification, LogNotifier, type NotificationOutcome, type Notifier } from '../gitops/notify.ts';
import { Repository } from '../gitops/repo.ts';
import type { Signer } from '../gitops/sign/signer.ts';
import { contextFromRepository, readInputFile, sourcesFromTree } from './context.ts';
import { loadDecisionCore, type BundleLike, type DecisionCore } from './core.ts';
import { repairLedger } from './repair.ts';
import { land, retrying, writeChange, type BranchMove } from './transaction.ts';

export type { BundleLike, DecisionCore } from './core.ts';

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
  /** How long races with other writers are retried (default app/transaction.ts RETRY_WINDOW_MS). */
  retryWindowMs?: number;
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

const isoNow = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

async function readInput(value: string | { text: string; source: string }, what: string): Promise<{ text: string; source: string }> {
  if (typeof value !== 'string') return value;
  try {
    return { text: readInputFile(value), source: value === '-' ? 'stdin' : value };
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`cannot read ${what}: ${err.detail}`, err.field);
    throw err;
  }
}

/** Lowers a decision to `escalate` at the Git edge (blast radius, refused plan), saying why. */
function escalateAtEdge(decision: Decision, guardrail: string, detail: string): Decision {
  const report: GuardrailReport = { name: guardrail, applied: true, detail };
  return { ...decision, mode: 'escalate', guardrails: [...decision.guardrails, report], rationale: [...decision.rationale, `Escalated instead of acting: ${detail}`] };
}

function nextStep(decision: Decision, verification: VerificationSpec | undefined): string {
  const verify = verification ? ` arbiter then checks that ${verification.metric} ${verification.direction}s within ${verification.window};` : '';
  if (decision.mode === 'approval') return `a reviewer merges or closes the pull request.${verify} a failed check reverts the change and opens the circuit.`;
  return `Argo CD / Flux apply this commit.${verify} if the service does not recover, a compensating commit reverts it and the circuit opens for this service.`;
}

interface Prepared {
  core: DecisionCore;
  diagnosis: Diagnosis;
  override: ContextOverride | undefined;
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
  let override: ContextOverride | undefined;
  if (options.context !== undefined) {
    if (typeof options.context === 'string' || ('text' in options.context && 'source' in options.context && Object.keys(options.context).length === 2)) {
      const input = await readInput(options.context as string | { text: string; source: string }, 'context');
      override = core.parseContextOverride(input.text, input.source);
    } else override = core.parseContextOverride(JSON.stringify(options.context), 'context');
  }
  const bundle = typeof options.bundle === 'string' ? await core.loadBundle(options.bundle) : options.bundle;
  if (options.signer === undefined) throw new InputError('signing is on by default: give a signing key', 'signingKey');
  return { core, diagnosis, override, bundle, branch: options.branch ?? 'main', signer: options.signer ?? undefined };
}

/** Carries out one diagnosis on the repository; retried as a whole when another writer moved the branch. */
export async function act(options: ActOptions): Promise<ActResult> {
  const prepared = await prepare(options);
  const repo = await Repository.open(options.repo, { cacheDir: options.cacheDir });
  const log = options.log ?? (() => undefined);
  try {
    return await repo.withCacheLock(async () => {
      const result = await retrying((attempt) => attemptOnce(repo, prepared, options, attempt), { log, what: 'attempt', ...(options.retryWindowMs !== undefined ? { windowMs: options.retryWindowMs } : {}) });
      // after its own decision is recorded (a repeat of a crashed run records itself as a Decision entry), any other
      // arbiter commit a crash left without its entry gets a Repair entry; a failure here never fails the decision
      await repairLedger(repo, { branch: prepared.branch, signer: prepared.signer, now: () => options.now ?? isoNow(), log }).catch((err: unknown) =>
        log(`ledger repair did not finish: ${err instanceof Error ? err.message : String(err)}`),
      );
      return result;
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
  if (!targetTip) throw new InputError(`branch ${branch} does not exist in ${options.repo}`, 'branch');
  const ledgerTip = await repo.tip(LEDGER_BRANCH);
  const targetTree = (await readCommit(repo.store, targetTip)).tree;

  // context from Git: catalog, calendar and kill switch from the target branch, history from the ledger
  const sources = await sourcesFromTree(repo.store, targetTree, core);
  // like `arbiter decide`: an explicit now, else the context's, else when the diagnosis was observed (never the clock,
  // so a replayed diagnosis gets the same decision)
  const now = options.now ?? p.override?.now ?? diagnosis.observedAt;
  const override = options.now && p.override ? { ...p.override, now: options.now } : p.override;
  const history = await ledgerHistory(repo.store, ledgerTip, {
    incident: diagnosis.incident,
    service: diagnosis.target.service,
    now,
    cooldownMinutes: bundle.settings.guardrails.circuitCooldownMinutes,
  });
  const assembled = contextFromRepository(core.assembleContext, { diagnosis, now, sources, bundleData: bundle.data, history, ...(override ? { override } : {}) });
  const context = assembled.context;
  // only a service the catalog lists has paths arbiter may edit (and a namespace the guardrails check)
  const service = assembled.known ? assembled.service : undefined;
  let decision = await core.decide({ diagnosis, context, bundle, ...(service ? { service } : {}) });

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
    log(`idempotency key ${decision.idempotencyKey} already recorded (${earlier.entry?.kind.toLowerCase() ?? 'entry'} ${earlier.entry?.id ?? ''}); nothing to do`);
    const repeat = { ...earlier.actuation, ledgerCommit: null, repeated: true, foundIn: 'ledger' as const, changed: [], notes: [], attempts };
    if (earlier.entry?.kind !== 'Decision') return { decision, actuation: repeat };
    const { actuation: _recorded, followUp: _followUp, ...earlierDecision } = earlier.entry;
    return { decision: earlierDecision, actuation: repeat };
  }

  let actuation: Actuation = { commit: null, branch: null, pullRequest: null };
  let changed: string[] = [];
  let notes: string[] = [];
  const moves: BranchMove[] = [];
  let openPullRequest: (() => Promise<void>) | undefined;
  let definition: ActionDefinition | undefined;
  let followUp: Plan['followUp'];

  if (earlier) {
    // acted before but the ledger lacks it (a crash between pushes): record it now, write nothing else
    log(`idempotency key found on ${earlier.source === 'branch' ? `branch ${branch}` : 'an open pull request'}; recording the missing ledger entry`);
    actuation = earlier.actuation;
    notes = [`repaired: the earlier actuation was found on ${earlier.source === 'branch' ? branch : 'an open pull request'} without a ledger entry`];
  } else if (ACTING.has(decision.mode) && decision.action) {
    definition = core.getAction(decision.action.kind);
    const planned = await planWithinAllowedPaths(repo, core, decision, service, context, targetTip, targetTree, bundle, diagnosis, options.kubectl);
    if ('refused' in planned) {
      decision = escalateAtEdge(decision, planned.guardrail, planned.refused);
    } else if (planned.plan.edits.length === 0) {
      notes = ['the target branch already has this change: nothing to commit', ...planned.plan.notes];
    } else {
      const { plan } = planned;
      notes = planned.render ? [...plan.notes, planned.render] : plan.notes;
      followUp = plan.followUp;
      changed = plan.edits.map((e) => e.path).sort();
      const subject = commitSubject(plan.applied.target.service, definition.describe(plan.applied));
      // the metric that proves recovery: chosen from the action's preferences and what the diagnosis measured
      const verification = chooseVerification(decision.action.kind, definition.verification, diagnosis.signals);
      const message = formatMessage(subject, actuationBody(decision, diagnosis, plan.notes, nextStep(decision, verification.spec)), decisionTrailers(decision));
      const changes = plan.edits.map((e: FileEdit) => ({ path: e.path, content: e.after }));
      const commit = await writeChange(repo, { parent: targetTip, baseTree: targetTree, changes, message, signer: p.signer });
      if (decision.mode === 'approval') {
        const prBranch = pullRequestBranch(decision.incident, decision.action.kind, decision.idempotencyKey);
        await repo.sync([prBranch]);
        moves.push({ branch: prBranch, oid: commit, expected: await repo.tip(prBranch), force: true });
        actuation = { commit, branch: prBranch, pullRequest: null, proposal: proposalOf(plan.edits) };
        const forge = options.forge;
        const approved = decision;
        const edits = plan.edits;
        const planNotes = verification.note ? [...plan.notes, `verification: ${verification.note}`] : plan.notes;
        const def = definition;
        if (forge) {
          openPullRequest = async () => {
            const pr = await forge.openOrUpdatePullRequest({
              branch: prBranch,
              base: branch,
              title: subject,
              body: pullRequestBody({ decision: approved, diagnosis, edits, notes: planNotes, risk: def.risk, verification: verification.spec, base: branch }),
              labels: ['arbiter', `risk:${def.risk}`, `action:${approved.action!.kind}`],
              reviewers: service?.owners ?? [],
              idempotencyKey: approved.idempotencyKey,
            });
            if (!bodyCarriesKey(pr.body, approved.idempotencyKey)) throw new InternalError(`pull request #${pr.number} lost its trailers`);
            actuation.pullRequest = { number: pr.number, url: pr.url };
            log(`${pr.created ? 'opened' : 'updated'} pull request #${pr.number} ${pr.url}`);
          };
        } else {
          notes = [...notes, `no forge configured: branch ${prBranch} is pushed, open the pull request by hand`];
        }
      } else {
        moves.push({ branch, oid: commit, expected: targetTip });
        actuation = { commit, branch, pullRequest: null };
      }
    }
  }

  const final = decision;
  const { ledgerCommit } = await land(repo, {
    moves,
    ...(openPullRequest ? { afterMoves: openPullRequest } : {}),
    entry: (): DecisionEntry => ({ ...final, actuation, ...(followUp ? { followUp } : {}) }),
    ledgerTip,
    signer: p.signer,
    log,
    ...(options.retryWindowMs !== undefined ? { windowMs: options.retryWindowMs } : {}),
  });
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
  bundle: BundleLike,
  diagnosis: Diagnosis,
  kubectl: string | undefined,
): Promise<Planned> {
  const allowed = service?.paths ?? [];
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
    });
  } catch (err) {
    if (err instanceof PlanRefusedError) return { refused: err.message, guardrail: 'plan-refused' };
    throw err;
  }
  const outside = plan.edits.filter((e) => !isInsidePaths(e.path, allowed));
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
