// The decision ledger: the orphan branch `arbiter/ledger`, one signed commit per entry (DESIGN §6, §7).
//   decisions/YYYY/MM/DD/<id>.json           the Decision plus `actuation` (or a verification/compensation event)
//   index/keys/<hex[0,2]>/<hex>/<id>          idempotency key → entries (a lookup walks 4 trees, not the ledger)
//   index/incidents/<h2>/<incident>/<id>      incident → entries (history.incidentActions); h2 = first 2 hex of
//                                             sha256(incident), so no tree grows with the number of incidents
// Index files hold `{path, mode, commit}` so lookups never parse whole entries.
import { createHash } from 'node:crypto';
import type { Plan } from '../actions/types.ts';
import { z } from 'zod';
import { InternalError } from '../engine/errors.ts';
import { ActionKind, Modes, Rfc3339, type ActionTarget, type Context, type Decision } from '../engine/types.ts';
import { readCommit, readPath, writeCommit, writeTreeChanges, type TreeChange } from './commit.ts';
import { commitSubject, decisionTrailers, formatMessage, parseTrailers, wrap } from './message.ts';
import type { ObjectStore } from './objects.ts';
import type { ChangeSet } from './proposal.ts';
import type { Signer } from './sign/signer.ts';

export const LEDGER_BRANCH = 'arbiter/ledger';
/** The version every ledger entry carries; a reader refuses entries of another version. */
export const LEDGER_API_VERSION = 'arbiter.dev/v1';

export interface PullRequestRef {
  number: number;
  url: string;
}

export interface Actuation {
  /** The actuation commit (on `branch`), or null when nothing was written (escalate, shadow, no-op). */
  commit: string | null;
  branch: string | null;
  pullRequest: PullRequestRef | null;
  /** Approval mode: the change the pull request proposes (path → blob id, null = deleted); audit compares merges with it. */
  proposal?: ChangeSet;
}

export type FollowUp = NonNullable<Plan['followUp']>;

/** A ledger decision entry; `followUp` is a scheduled revert or a pending promotion from the plan (actions/follow-ups.ts). */
export type DecisionEntry = Decision & { actuation: Actuation; followUp?: FollowUp };

/** What every entry after a decision shares: which decision it is about, when, and what it wrote. */
interface EventFields {
  apiVersion: typeof LEDGER_API_VERSION;
  id: string;
  /** The decision this event is about. */
  decision: string;
  incident: string;
  target: ActionTarget;
  at: string;
  detail: string;
  actuation: Actuation;
}

/** A verification step (§7): the controller applied the commit (`reconciled`), then the metric recovered or not. */
export interface VerificationEntry extends EventFields {
  kind: 'Verification';
  outcome: 'reconciled' | 'recovered' | 'failed' | 'unverified';
}

/** The compensating change after a failed verification (opens the circuit for the service). */
export interface CompensationEntry extends EventFields {
  kind: 'Compensation';
  outcome: 'reverted' | 'failed';
}

/** Settles a follow-up (scheduled revert or promotion): carried out, already in place, or cancelled. */
export interface FollowUpEntry extends EventFields {
  kind: 'FollowUp';
  outcome: 'done' | 'cancelled';
  followUp: FollowUp;
}

/** Records an arbiter commit found on a branch without its ledger entry (a crash between the two pushes). */
export interface RepairEntry extends EventFields {
  kind: 'Repair';
  outcome: 'recorded';
  /** The idempotency key the repaired commit carries, so a repeat of its decision finds it. */
  idempotencyKey: string;
}

export type EventEntry = VerificationEntry | CompensationEntry | FollowUpEntry | RepairEntry;

/** Every kind of entry the ledger holds: a closed union, validated when read (`parseLedgerEntry`). */
export type LedgerEntry = DecisionEntry | EventEntry;
export type LedgerEntryKind = LedgerEntry['kind'];

const Oid = z.string().regex(/^[0-9a-f]{40}$/, 'must be a commit id');
const Target = z.object({ service: z.string().min(1), namespace: z.string() }).loose();
const ActuationSchema = z
  .object({
    commit: Oid.nullable(),
    branch: z.string().nullable(),
    pullRequest: z.object({ number: z.number().int().nonnegative(), url: z.string() }).strict().nullable(),
    proposal: z.record(z.string(), z.string().regex(/^(?:[0-7]{6}:)?[0-9a-f]{40}$/).nullable()).optional(),
  })
  .strict();
const ActionSchema = z.object({ kind: ActionKind, target: Target, params: z.record(z.string(), z.unknown()) }).loose();
const FollowUpSchema = z
  .object({ kind: z.enum(['revert', 'promote']), due: Rfc3339, action: ActionSchema, detail: z.string(), environment: z.string().optional() })
  .strict();
const eventFields = {
  apiVersion: z.literal(LEDGER_API_VERSION),
  id: z.string().min(1),
  decision: z.string().min(1),
  incident: z.string().min(1),
  target: Target,
  at: Rfc3339,
  detail: z.string(),
  actuation: ActuationSchema,
};
/** The decision fields readers rely on; the explanation (candidates, verdicts, rationale) is kept as written. */
const DecisionEntrySchema = z
  .object({
    apiVersion: z.literal(LEDGER_API_VERSION),
    kind: z.literal('Decision'),
    id: z.string().min(1),
    idempotencyKey: z.string().min(1),
    incident: z.string().min(1),
    diagnosis: z.string(),
    decidedAt: Rfc3339,
    mode: z.enum([...Modes, 'shadow']),
    action: ActionSchema.nullable(),
    support: z.number(),
    target: Target,
    bundle: z.object({ revision: z.string(), digest: z.string() }).loose(),
    rationale: z.array(z.string()),
    guardrails: z.array(z.unknown()),
    candidates: z.array(z.unknown()),
    actuation: ActuationSchema,
    followUp: FollowUpSchema.optional(),
  })
  .loose();
export const LedgerEntrySchema = z.discriminatedUnion('kind', [
  DecisionEntrySchema,
  z.object({ ...eventFields, kind: z.literal('Verification'), outcome: z.enum(['reconciled', 'recovered', 'failed', 'unverified']) }).strict(),
  z.object({ ...eventFields, kind: z.literal('Compensation'), outcome: z.enum(['reverted', 'failed']) }).strict(),
  z.object({ ...eventFields, kind: z.literal('FollowUp'), outcome: z.enum(['done', 'cancelled']), followUp: FollowUpSchema }).strict(),
  z.object({ ...eventFields, kind: z.literal('Repair'), outcome: z.literal('recorded'), idempotencyKey: z.string().min(1) }).strict(),
]);

/** A ledger entry file that is not a valid entry of this version: the audit log cannot be trusted at this path. */
export class LedgerEntryError extends InternalError {}

/** Parses and validates one entry file; `path` names it in the error. */
export function parseLedgerEntry(text: string, path: string): LedgerEntry {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LedgerEntryError(`not JSON (${(err as Error).message})`, { field: path });
  }
  const r = LedgerEntrySchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new LedgerEntryError(`not a valid ${LEDGER_API_VERSION} ledger entry: ${issue.path.join('.') || '(entry)'}: ${issue.message}`, { field: path });
  }
  // the schema checked the fields readers use; the decision's explanation is kept exactly as it was written
  return value as LedgerEntry;
}

export interface IndexRecord {
  path: string;
  mode: string;
  commit: string | null;
}

function isDecision(entry: LedgerEntry): entry is DecisionEntry {
  return entry.kind === 'Decision';
}

export function entryTime(entry: LedgerEntry): string {
  return isDecision(entry) ? entry.decidedAt : entry.at;
}

/** `decisions/YYYY/MM/DD/<id>.json`, dated by the decision time in UTC. */
export function entryPath(entry: LedgerEntry): string {
  const day = new Date(entryTime(entry)).toISOString().slice(0, 10).replace(/-/g, '/');
  return `decisions/${day}/${entry.id}.json`;
}

/** A path-safe name for an idempotency key: its hex when it is `sha256:<hex>`, else a hash of it. */
export function keyName(key: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(key);
  return m ? m[1]! : createHash('sha256').update(key).digest('hex');
}

export function incidentIndexDir(incident: string): string {
  return `index/incidents/${createHash('sha256').update(incident).digest('hex').slice(0, 2)}/${incident}`;
}

export function keyIndexDir(key: string): string {
  const hex = keyName(key);
  return `index/keys/${hex.slice(0, 2)}/${hex}`;
}

/** The trailers of a ledger commit: the decision's trailers, then where the entry is and its sequence number. */
export function ledgerTrailers(entry: LedgerEntry, path: string, seq: number): Record<string, string> {
  const base: Record<string, string> = isDecision(entry)
    ? { ...decisionTrailers(entry) }
    : {
        'Arbiter-Decision': entry.decision,
        'Arbiter-Incident': entry.incident,
        'Arbiter-Target': `${entry.target.namespace || 'default'}/${entry.target.service}`,
        'Arbiter-Event': `${entry.kind.toLowerCase()} ${entry.outcome}`,
      };
  return { ...base, 'Arbiter-Ledger-Entry': path, 'Arbiter-Ledger-Seq': String(seq) };
}

function ledgerBody(entry: LedgerEntry): string[] {
  if (!isDecision(entry)) return [wrap(`${entry.kind} of decision ${entry.decision}: ${entry.outcome}. ${entry.detail}`)];
  const what = entry.action ? `${entry.action.kind} on ${entry.action.target.namespace}/${entry.action.target.service}` : 'no action';
  const where = entry.actuation.commit
    ? `Actuation: commit ${entry.actuation.commit} on ${entry.actuation.branch}${entry.actuation.pullRequest ? `, pull request #${entry.actuation.pullRequest.number}` : ''}.`
    : 'Nothing was written to the GitOps repository.';
  return [wrap(`Decision ${entry.id} for incident ${entry.incident}: mode ${entry.mode}${entry.wouldBe ? ` (would be ${entry.wouldBe})` : ''}, ${what}, support ${entry.support.toFixed(2)}.`), where];
}

export function ledgerSubject(entry: LedgerEntry): string {
  if (!isDecision(entry)) return commitSubject(entry.target.service, `ledger ${entry.kind.toLowerCase()} ${entry.outcome}`);
  return commitSubject(entry.action?.target.service ?? entry.target.service, `ledger ${entry.mode} ${entry.action?.kind ?? 'no action'}`);
}

export async function ledgerSeq(store: ObjectStore, tip: string | null): Promise<number> {
  if (!tip) return 0;
  const seq = Number(parseTrailers((await readCommit(store, tip)).message)['Arbiter-Ledger-Seq']);
  return Number.isInteger(seq) && seq > 0 ? seq : 0;
}

/** The tree changes that append `entry` (the entry file plus its index files). */
export function entryChanges(entry: LedgerEntry): TreeChange[] {
  const path = entryPath(entry);
  const record: IndexRecord = { path, mode: isDecision(entry) ? entry.mode : entry.kind, commit: entry.actuation.commit };
  const changes: TreeChange[] = [{ path, content: `${JSON.stringify(entry, null, 2)}\n` }];
  const index = `${JSON.stringify(record)}\n`;
  if (entry.kind === 'Decision' || entry.kind === 'Repair') changes.push({ path: `${keyIndexDir(entry.idempotencyKey)}/${entry.id}`, content: index });
  changes.push({ path: `${incidentIndexDir(entry.incident)}/${entry.id}`, content: index });
  return changes;
}

/** Writes the ledger commit that appends `entry` on top of `tip` (null: the first, orphan commit). */
export async function appendLedgerEntry(store: ObjectStore, tip: string | null, entry: LedgerEntry, signer: Signer | undefined, when?: Date): Promise<string> {
  const base = tip ? (await readCommit(store, tip)).tree : null;
  const path = entryPath(entry);
  if (base && (await readPath(store, base, path))) throw new InternalError(`ledger entry ${path} already exists`);
  const tree = await writeTreeChanges(store, base, entryChanges(entry));
  const seq = (await ledgerSeq(store, tip)) + 1;
  const message = formatMessage(ledgerSubject(entry), ledgerBody(entry), ledgerTrailers(entry, path, seq));
  return writeCommit(store, { tree, parents: tip ? [tip] : [], message, signer, when });
}

async function indexRecords(store: ObjectStore, root: string, dir: string): Promise<IndexRecord[]> {
  const found = await readPath(store, root, dir);
  if (!found || found.mode !== '40000') return [];
  const out: IndexRecord[] = [];
  for (const e of await store.readTree(found.oid)) out.push(JSON.parse((await store.readBlob(e.oid)).toString('utf8')) as IndexRecord);
  return out;
}

/** True when the ledger at `ledgerTip` has an entry of `incident` whose actuation is `commit`. */
export async function commitRecorded(store: ObjectStore, ledgerTip: string | null, incident: string, commit: string): Promise<boolean> {
  if (!ledgerTip) return false;
  const root = (await readCommit(store, ledgerTip)).tree;
  return (await indexRecords(store, root, incidentIndexDir(incident))).some((r) => r.commit === commit);
}

async function readEntryAt(store: ObjectStore, root: string, path: string): Promise<LedgerEntry | undefined> {
  const found = await readPath(store, root, path);
  if (!found || found.mode === '40000') return undefined;
  return parseLedgerEntry((await store.readBlob(found.oid)).toString('utf8'), path);
}

export async function readLedgerEntry(store: ObjectStore, ledgerTip: string, path: string): Promise<LedgerEntry | undefined> {
  return readEntryAt(store, (await readCommit(store, ledgerTip)).tree, path);
}

async function collectEntries(store: ObjectStore, tree: string, base: string, out: LedgerEntry[]): Promise<void> {
  for (const e of await store.readTree(tree)) {
    if (e.mode === '40000') await collectEntries(store, e.oid, `${base}${e.name}/`, out);
    else if (e.name.endsWith('.json')) out.push(parseLedgerEntry((await store.readBlob(e.oid)).toString('utf8'), `${base}${e.name}`));
  }
}

/** Every entry under `decisions/` of the ledger at `tip`, validated. */
export async function readLedgerEntries(store: ObjectStore, tip: string | null): Promise<LedgerEntry[]> {
  if (!tip) return [];
  const found = await readPath(store, (await readCommit(store, tip)).tree, 'decisions');
  if (!found || found.mode !== '40000') return [];
  const out: LedgerEntry[] = [];
  await collectEntries(store, found.oid, 'decisions/', out);
  return out;
}

/** Decision (and repair) entries recorded for an idempotency key, oldest first. */
export async function entriesForKey(store: ObjectStore, ledgerTip: string | null, key: string): Promise<Array<DecisionEntry | RepairEntry>> {
  if (!ledgerTip) return [];
  const root = (await readCommit(store, ledgerTip)).tree;
  const out: Array<DecisionEntry | RepairEntry> = [];
  for (const record of await indexRecords(store, root, keyIndexDir(key))) {
    const entry = await readEntryAt(store, root, record.path);
    if (entry && (entry.kind === 'Decision' || entry.kind === 'Repair')) out.push(entry);
  }
  return out.sort((a, b) => entryTime(a).localeCompare(entryTime(b)));
}

/** Entries under `decisions/` dated on the UTC days from `from` to `to`. */
async function entriesBetween(store: ObjectStore, root: string, from: Date, to: Date): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  for (; day <= to; day.setUTCDate(day.getUTCDate() + 1)) {
    const dir = `decisions/${day.toISOString().slice(0, 10).replace(/-/g, '/')}`;
    const found = await readPath(store, root, dir);
    if (!found || found.mode !== '40000') continue;
    for (const e of await store.readTree(found.oid)) {
      if (e.mode !== '40000') out.push(parseLedgerEntry((await store.readBlob(e.oid)).toString('utf8'), `${dir}/${e.name}`));
    }
  }
  return out;
}

/** An entry acted when it wrote a commit (auto, notify, approval). */
function acted(entry: LedgerEntry): boolean {
  return (isDecision(entry) || entry.kind === 'Repair') && entry.actuation.commit !== null;
}

/**
 * `context.history` (DESIGN §3) from the ledger at `ledgerTip`:
 * incidentActions = actuated decisions of this incident; serviceActionsLastHour = actuated decisions on the service in
 * (now − 1h, now]; circuitOpen = a failed verification or a compensation on the service within the cooldown.
 */
export async function ledgerHistory(
  store: ObjectStore,
  ledgerTip: string | null,
  query: { incident: string; service: string; now: string; cooldownMinutes: number },
): Promise<Context['history']> {
  const history = { incidentActions: 0, serviceActionsLastHour: 0, circuitOpen: false };
  if (!ledgerTip) return history;
  const root = (await readCommit(store, ledgerTip)).tree;
  history.incidentActions = (await indexRecords(store, root, incidentIndexDir(query.incident))).filter((r) => r.commit !== null && r.mode !== 'Verification' && r.mode !== 'Compensation').length;
  const now = new Date(query.now);
  const hourAgo = now.getTime() - 3_600_000;
  const cooldownFrom = now.getTime() - query.cooldownMinutes * 60_000;
  const from = new Date(Math.min(hourAgo, cooldownFrom));
  for (const entry of await entriesBetween(store, root, from, now)) {
    const service = isDecision(entry) ? (entry.action?.target.service ?? entry.target.service) : entry.target.service;
    if (service !== query.service) continue;
    const at = Date.parse(entryTime(entry));
    if (at > now.getTime()) continue;
    if (acted(entry) && at > hourAgo) history.serviceActionsLastHour++;
    if (!isDecision(entry) && at >= cooldownFrom && (entry.outcome === 'failed' || entry.kind === 'Compensation')) history.circuitOpen = true;
  }
  return history;
}
