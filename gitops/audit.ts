// `arbiter audit`: reconstruct the decision log from the ledger and the target branch, verify every arbiter
// commit's signature against the allowed signers, and report what is wrong (DESIGN §6 Audit).
import { readFile } from 'node:fs/promises';
import type * as openpgp from 'openpgp';
import { InputError } from '../engine/errors.ts';
import { readCommit, type ParsedCommit } from './commit.ts';
import { LEDGER_BRANCH, parseLedgerEntry, type LedgerEntry } from './ledger.ts';
import { parseTrailers } from './message.ts';
import { changeSetDifference, treeChanges, type ChangeSet } from './proposal.ts';
import { isArbiterKey, parseTrailerList, trailerRecord } from './trailers.ts';
import type { ObjectStore } from './objects.ts';
import { Repository } from './repo.ts';
import { readOpenPgpPublicKeys, verifyOpenPgp } from './sign/openpgp.ts';
import { parseAllowedSigners, verifySshsig } from './sign/sshsig.ts';

export type FindingKind =
  | 'unsigned'
  | 'unknown-signer'
  | 'bad-signature'
  | 'missing-actuation'
  | 'rewritten-history'
  | 'foreign-ledger-commit'
  | 'unrecorded-actuation'
  | 'unverifiable-actuation'
  | 'reviewed-merge'
  | 'unreviewed-change'
  | 'unverifiable-merge'
  | 'replayed-merge'
  | 'ambiguous-trailers'
  | 'missing-ledger'
  | 'nothing-to-audit';

/** Errors fail the audit (exit 1); warnings and infos are reported only. */
export interface AuditFinding {
  severity: 'error' | 'warning' | 'info';
  kind: FindingKind;
  commit?: string;
  entry?: string;
  detail: string;
}

export interface AuditedDecision {
  at: string;
  id: string;
  kind: string;
  incident: string;
  mode: string;
  action: string;
  target: string;
  commit: string | null;
  branch: string | null;
  pullRequest: number | null;
  ledgerCommit: string;
  signer: string | null;
}

export interface AuditReport {
  ok: boolean;
  /** False when there was nothing to audit: no ledger and no arbiter commit on the branch (the audit then fails). */
  audited: boolean;
  branch: string;
  ledger: { tip: string | null; commits: number; entries: number };
  arbiterCommitsOnBranch: number;
  decisions: AuditedDecision[];
  findings: AuditFinding[];
}

export interface AuditOptions {
  repo: string;
  /** Path of an allowed-signers file: ssh-keygen ALLOWED SIGNERS lines and/or armored OpenPGP public keys. */
  allowedSigners: string;
  branch?: string;
  cacheDir?: string;
  /** A ledger head recorded by an earlier audit (a checkpoint the operator keeps): the ledger must still hold it. */
  expectLedger?: string;
}

export class TrustStore {
  private constructor(
    private readonly ssh: Map<string, string>,
    private readonly pgp: openpgp.Key[],
  ) {}

  static async parse(text: string, where: string): Promise<TrustStore> {
    const withoutPgp = text.replace(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g, '');
    const ssh = new Map<string, string>();
    for (const s of parseAllowedSigners(withoutPgp, where)) {
      if (!s.namespaces || s.namespaces.includes('git')) ssh.set(s.publicKey, s.principals[0] ?? '');
    }
    const pgp = await readOpenPgpPublicKeys(text).catch((err: unknown) => {
      throw new InputError(`unreadable OpenPGP public key (${err instanceof Error ? err.message : String(err)})`, where);
    });
    if (ssh.size === 0 && pgp.length === 0) throw new InputError('no signers in the file', where);
    return new TrustStore(ssh, pgp);
  }

  /** Who signed the commit, or the finding that says why nobody trusted did. */
  async verify(commit: ParsedCommit): Promise<{ signer: string } | { kind: 'unsigned' | 'unknown-signer' | 'bad-signature'; detail: string }> {
    const sig = commit.signature;
    if (!sig) return { kind: 'unsigned', detail: 'the commit carries no signature' };
    if (sig.includes('-----BEGIN SSH SIGNATURE-----')) {
      const r = verifySshsig(sig, commit.payload, 'git');
      if (!r.valid) return { kind: 'bad-signature', detail: r.reason ?? 'invalid' };
      const principal = this.ssh.get(r.publicKey!);
      return principal !== undefined ? { signer: principal || r.publicKey! } : { kind: 'unknown-signer', detail: `signed by ${r.publicKey}, which is not an allowed signer` };
    }
    if (sig.includes('-----BEGIN PGP SIGNATURE-----')) {
      const r = await verifyOpenPgp(sig, commit.payload, this.pgp);
      if (r.valid) return { signer: `openpgp:${r.signer}` };
      return r.reason?.startsWith('unknown signer') ? { kind: 'unknown-signer', detail: r.reason } : { kind: 'bad-signature', detail: r.reason ?? 'invalid' };
    }
    return { kind: 'bad-signature', detail: 'unsupported signature format' };
  }
}

/** True when git reads at least one `Arbiter-` trailer (any case, any spacing) in the message. */
function hasArbiterTrailers(message: string): boolean {
  return parseTrailerList(message).some((t) => isArbiterKey(t.token));
}

/** An approval decision whose change went to a pull request branch: what a reviewer's merge must equal. */
interface Proposal {
  decision: string;
  key: string;
  commit: string;
  branch: string;
  changes?: ChangeSet;
  merged?: string;
}

/** The change arbiter proposed: recorded in the ledger entry, else read from the pull request's commit if it is here. */
async function proposedChanges(store: ObjectStore, proposal: Proposal): Promise<ChangeSet | undefined> {
  if (proposal.changes) return proposal.changes;
  if (!(await store.has(proposal.commit))) return undefined;
  const commit = await readCommit(store, proposal.commit);
  const parent = commit.parents[0] ? (await readCommit(store, commit.parents[0])).tree : null;
  return treeChanges(store, parent, commit.tree);
}

/** Every file under `decisions/` in `tree`: path → blob oid. */
async function decisionFiles(store: ObjectStore, tree: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (oid: string, base: string): Promise<void> => {
    for (const e of await store.readTree(oid)) {
      if (e.mode === '40000') await walk(e.oid, `${base}${e.name}/`);
      else out.set(`${base}${e.name}`, e.oid);
    }
  };
  const root = (await store.readTree(tree)).find((e) => e.name === 'decisions' && e.mode === '40000');
  if (root) await walk(root.oid, 'decisions/');
  return out;
}

/** All commits reachable from `tip` (every parent), oldest-agnostic. */
async function reachable(store: ObjectStore, tip: string | null): Promise<Map<string, ParsedCommit>> {
  const seen = new Map<string, ParsedCommit>();
  const stack = tip ? [tip] : [];
  while (stack.length) {
    const oid = stack.pop()!;
    if (seen.has(oid)) continue;
    const commit = await readCommit(store, oid);
    seen.set(oid, commit);
    for (const p of commit.parents) if (!seen.has(p)) stack.push(p);
  }
  return seen;
}

export async function audit(options: AuditOptions): Promise<AuditReport> {
  let text: string;
  try {
    text = await readFile(options.allowedSigners, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the allowed signers file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'allowedSigners');
  }
  const trust = await TrustStore.parse(text, options.allowedSigners);
  const branch = options.branch ?? 'main';
  const repo = await Repository.open(options.repo, { cacheDir: options.cacheDir });
  try {
    return await repo.withCacheLock(() => auditRepository(repo, trust, branch, options.expectLedger));
  } finally {
    repo.store.close();
  }
}

/** A reviewer's merge of an approval: accepted when its change (against its first parent) is exactly the proposal, once. */
async function judgeMerge(store: ObjectStore, commit: ParsedCommit, proposal: Proposal): Promise<AuditFinding> {
  const proposed = await proposedChanges(store, proposal);
  if (!proposed) {
    return { severity: 'error', kind: 'unverifiable-merge', commit: commit.oid, detail: `carries the trailers of decision ${proposal.decision}, but neither the ledger nor the repository holds the change its pull request proposed` };
  }
  const parent = commit.parents[0] ? (await readCommit(store, commit.parents[0])).tree : null;
  const differs = changeSetDifference(proposed, await treeChanges(store, parent, commit.tree));
  if (differs.length > 0) {
    const shown = differs.slice(0, 5).join(', ') + (differs.length > 5 ? `, … (${differs.length} paths)` : '');
    return { severity: 'error', kind: 'unreviewed-change', commit: commit.oid, detail: `carries the trailers of decision ${proposal.decision} but changes what its pull request did not propose: ${shown}` };
  }
  if (proposal.merged && proposal.merged !== commit.oid) {
    return { severity: 'error', kind: 'replayed-merge', commit: commit.oid, detail: `decision ${proposal.decision} was already merged in ${proposal.merged.slice(0, 12)}; an approval is merged once` };
  }
  proposal.merged = commit.oid;
  return { severity: 'info', kind: 'reviewed-merge', commit: commit.oid, detail: `a reviewer merged arbiter's pull request for ${proposal.decision} (${proposal.branch}); the change is exactly the proposal` };
}

export async function auditRepository(repo: Repository, trust: TrustStore, branch: string, expectLedger?: string): Promise<AuditReport> {
  await repo.sync([branch, LEDGER_BRANCH]);
  const store = repo.store;
  const findings: AuditFinding[] = [];
  const decisions: AuditedDecision[] = [];
  const ledgerTip = await repo.tip(LEDGER_BRANCH);
  const targetTip = await repo.tip(branch);
  if (!targetTip) throw new InputError(`branch ${branch} does not exist`, 'branch');

  // 1. the ledger chain: linear, signed, sequence numbers contiguous down to 1
  const chain: Array<{ commit: ParsedCommit; trailers: Record<string, string>; signer: string | null }> = [];
  let expectedSeq: number | undefined;
  for (let oid: string | undefined = ledgerTip ?? undefined; oid; ) {
    const commit = await readCommit(store, oid);
    const trailers = parseTrailers(commit.message);
    const verdict = await trust.verify(commit);
    const signer = 'signer' in verdict ? verdict.signer : null;
    if (!('signer' in verdict)) findings.push({ severity: 'error', kind: verdict.kind, commit: oid, detail: `ledger commit: ${verdict.detail}` });
    if (!hasArbiterTrailers(commit.message)) findings.push({ severity: 'error', kind: 'foreign-ledger-commit', commit: oid, detail: 'ledger commit without Arbiter- trailers' });
    if (commit.parents.length > 1) findings.push({ severity: 'error', kind: 'rewritten-history', commit: oid, detail: 'the ledger must be linear; this is a merge' });
    const seq = Number(trailers['Arbiter-Ledger-Seq']);
    if (expectedSeq !== undefined && seq !== expectedSeq) {
      findings.push({ severity: 'error', kind: 'rewritten-history', commit: oid, detail: `ledger sequence ${seq} where ${expectedSeq} was expected: commits were removed or reordered` });
    }
    expectedSeq = seq - 1;
    if (commit.parents.length === 0 && seq !== 1) {
      findings.push({ severity: 'error', kind: 'rewritten-history', commit: oid, detail: `the first ledger commit has sequence ${seq}, not 1: the ledger was truncated` });
    }
    chain.push({ commit, trailers, signer });
    oid = commit.parents[0];
  }

  if (expectLedger && !chain.some((c) => c.commit.oid === expectLedger)) {
    findings.push({ severity: 'error', kind: 'rewritten-history', commit: expectLedger, detail: `the ledger no longer holds ${expectLedger}, the head an earlier audit recorded: it was cut back or rewritten since` });
  }

  // 2. entries: every ledger commit's entry is still in the tip tree, and every entry came from a ledger commit
  const files = ledgerTip ? await decisionFiles(store, (await readCommit(store, ledgerTip)).tree) : new Map<string, string>();
  const recorded = new Set<string>();
  const target = await reachable(store, targetTip);
  const actuations = new Set<string>();
  // decision id → the change its pull request proposed (a reviewer may squash-, rebase- or merge it)
  const proposals = new Map<string, Proposal>();
  for (const { commit, trailers, signer } of chain.reverse()) {
    const path = trailers['Arbiter-Ledger-Entry'];
    if (!path) continue;
    recorded.add(path);
    const blob = files.get(path);
    if (!blob) {
      findings.push({ severity: 'error', kind: 'rewritten-history', commit: commit.oid, entry: path, detail: 'the entry this ledger commit added is gone from the ledger' });
      continue;
    }
    let parsed: LedgerEntry;
    try {
      parsed = parseLedgerEntry((await store.readBlob(blob)).toString('utf8'), path);
    } catch (err) {
      findings.push({ severity: 'error', kind: 'rewritten-history', commit: commit.oid, entry: path, detail: err instanceof Error ? err.message : String(err) });
      continue;
    }
    const entry = parsed;
    const isDecision = entry.kind === 'Decision';
    const expectedId = isDecision ? entry.id : entry.decision;
    if (trailers['Arbiter-Decision'] !== expectedId) {
      findings.push({ severity: 'error', kind: 'rewritten-history', commit: commit.oid, entry: path, detail: `entry says ${expectedId}, the commit says ${trailers['Arbiter-Decision']}` });
    }
    const act = entry.actuation;
    if (isDecision && entry.mode === 'approval' && act?.commit && act.branch && act.branch !== branch) {
      proposals.set(entry.id, { decision: entry.id, key: entry.idempotencyKey, commit: act.commit, branch: act.branch, ...(act.proposal ? { changes: act.proposal } : {}) });
    }
    if (act?.commit) {
      actuations.add(act.commit);
      const present = await store.has(act.commit);
      const onTarget = act.branch === branch;
      if (!present) {
        findings.push({
          severity: onTarget ? 'error' : 'warning',
          kind: onTarget ? 'missing-actuation' : 'unverifiable-actuation',
          entry: path,
          commit: act.commit,
          detail: onTarget ? `actuation commit ${act.commit} is missing from the repository` : `commit ${act.commit} of ${act.branch} is not available (branch merged or deleted?)`,
        });
      } else if (onTarget && !target.has(act.commit)) {
        findings.push({ severity: 'error', kind: 'rewritten-history', entry: path, commit: act.commit, detail: `actuation commit ${act.commit} is no longer in the history of ${branch}` });
      } else if (onTarget && !hasArbiterTrailers(target.get(act.commit)!.message)) {
        // a commit without trailers is not checked below: check its signature here
        const verdict = await trust.verify(target.get(act.commit)!);
        if (!('signer' in verdict)) findings.push({ severity: 'error', kind: verdict.kind, commit: act.commit, detail: `actuation commit on ${branch}: ${verdict.detail}` });
      } else if (!onTarget) {
        const verdict = await trust.verify(await readCommit(store, act.commit));
        if (!('signer' in verdict)) findings.push({ severity: 'error', kind: verdict.kind, commit: act.commit, detail: `actuation commit on ${act.branch}: ${verdict.detail}` });
      }
    }
    decisions.push({
      at: isDecision ? entry.decidedAt : entry.at,
      id: entry.id,
      kind: entry.kind,
      incident: entry.incident,
      mode: isDecision ? entry.mode : `${entry.kind.toLowerCase()}:${entry.outcome}`,
      action: isDecision ? (entry.action?.kind ?? 'none') : '-',
      target: isDecision ? `${(entry.action?.target ?? entry.target).namespace}/${(entry.action?.target ?? entry.target).service}` : `${entry.target.namespace}/${entry.target.service}`,
      commit: act?.commit ?? null,
      branch: act?.branch ?? null,
      pullRequest: act?.pullRequest?.number ?? null,
      ledgerCommit: commit.oid,
      signer,
    });
  }
  for (const path of files.keys()) {
    if (!recorded.has(path)) findings.push({ severity: 'error', kind: 'rewritten-history', entry: path, detail: 'entry present in the ledger without the ledger commit that records it' });
  }

  // 3. the target branch: every commit git reads as carrying an Arbiter- trailer is signed by an allowed signer and
  // recorded in the ledger, or is a reviewer's merge of exactly the change arbiter proposed in a pull request
  let arbiterCommits = 0;
  for (const commit of target.values()) {
    if (!hasArbiterTrailers(commit.message)) continue;
    arbiterCommits++;
    const { trailers, conflicting } = trailerRecord(commit.message);
    const decisionId = trailers['Arbiter-Decision'];
    const proposal = decisionId !== undefined ? proposals.get(decisionId) : undefined;
    if (!actuations.has(commit.oid) && proposal && trailers['Arbiter-Mode'] === 'approval' && trailers['Arbiter-Idempotency-Key'] === proposal.key) {
      if (conflicting.length > 0) {
        findings.push({ severity: 'error', kind: 'ambiguous-trailers', commit: commit.oid, detail: `${conflicting.join(', ')} given twice with different values` });
        continue;
      }
      findings.push(await judgeMerge(store, commit, proposal));
      continue;
    }
    const verdict = await trust.verify(commit);
    if (!('signer' in verdict)) {
      findings.push({ severity: 'error', kind: verdict.kind, commit: commit.oid, detail: `commit on ${branch} with Arbiter- trailers: ${verdict.detail}` });
      continue;
    }
    if (!actuations.has(commit.oid)) {
      findings.push({
        severity: 'error',
        kind: 'unrecorded-actuation',
        commit: commit.oid,
        detail: `no ledger entry records this commit: the ledger was cut or deleted, or a run died before recording it (the next act for key ${trailers['Arbiter-Idempotency-Key'] ?? '?'} records it)`,
      });
    }
  }
  if (!ledgerTip && arbiterCommits > 0) {
    findings.push({ severity: 'error', kind: 'missing-ledger', detail: `${branch} has ${arbiterCommits} arbiter commit(s) but there is no ${LEDGER_BRANCH} branch: the ledger was deleted` });
  }
  const audited = ledgerTip !== null || arbiterCommits > 0;
  if (!audited) {
    findings.push({ severity: 'error', kind: 'nothing-to-audit', detail: `no ${LEDGER_BRANCH} branch and no arbiter commit on ${branch}: there is nothing to audit (arbiter never decided here, or every trace was removed)` });
  }

  decisions.sort((a, b) => a.at.localeCompare(b.at) || a.ledgerCommit.localeCompare(b.ledgerCommit));
  return {
    ok: !findings.some((f) => f.severity === 'error'),
    audited,
    branch,
    ledger: { tip: ledgerTip, commits: chain.length, entries: files.size },
    arbiterCommitsOnBranch: arbiterCommits,
    decisions,
    findings,
  };
}

/** The human-readable report: one line per decision, then findings, then a summary. */
export function formatAuditReport(report: AuditReport): string {
  const lines: string[] = [];
  for (const d of report.decisions) {
    const where = d.commit ? `${d.commit.slice(0, 10)} on ${d.branch}${d.pullRequest ? ` (PR #${d.pullRequest})` : ''}` : 'no change';
    lines.push(`${d.at}  ${d.id}  ${d.incident}  ${d.mode.padEnd(8)} ${d.action.padEnd(13)} ${d.target}  ${where}  signed by ${d.signer ?? 'NOBODY'}`);
  }
  if (report.findings.length) lines.push('', 'findings:');
  for (const f of report.findings) lines.push(`  ${f.severity === 'error' ? 'ERROR' : f.severity === 'warning' ? 'warn ' : 'info '} ${f.kind}${f.commit ? ` ${f.commit.slice(0, 10)}` : ''}${f.entry ? ` ${f.entry}` : ''}: ${f.detail}`);
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  if (report.ledger.tip) lines.push('', `ledger head ${report.ledger.tip} (${report.ledger.commits} commits): keep it, and pass it as --expect-ledger to the next audit`);
  lines.push(
    '',
    `${report.decisions.length} ledger entries, ${report.ledger.commits} ledger commits, ${report.arbiterCommitsOnBranch} arbiter commits on ${report.branch}: ` +
      (!report.audited ? 'nothing to audit (audit FAILED)' : report.ok ? 'audit passed' : `audit FAILED (${errors} error${errors === 1 ? '' : 's'})`),
  );
  return `${lines.join('\n')}\n`;
}
