// `arbiter audit`: reconstruct the decision log from the ledger and the target branch, verify every arbiter
// commit's signature against the allowed signers, and report what is wrong (DESIGN §6 Audit).
import { readFile } from 'node:fs/promises';
import type * as openpgp from 'openpgp';
import { InputError } from '../engine/errors.ts';
import { readCommit, type ParsedCommit } from './commit.ts';
import { LEDGER_BRANCH, parseLedgerEntry, type LedgerEntry } from './ledger.ts';
import { parseTrailers } from './message.ts';
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
  | 'reviewed-merge';

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

/** A commit that carries the trailers of an approval decision whose pull request the ledger recorded. */
function isReviewedMerge(trailers: Record<string, string>, pullRequestKeys: Map<string, Set<string>>): boolean {
  const key = trailers['Arbiter-Idempotency-Key'];
  const decision = trailers['Arbiter-Decision'];
  return trailers['Arbiter-Mode'] === 'approval' && key !== undefined && decision !== undefined && (pullRequestKeys.get(key)?.has(decision) ?? false);
}

function hasArbiterTrailers(trailers: Record<string, string>): boolean {
  return Object.keys(trailers).some((k) => k.startsWith('Arbiter-'));
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
    return await repo.withCacheLock(() => auditRepository(repo, trust, branch));
  } finally {
    repo.store.close();
  }
}

export async function auditRepository(repo: Repository, trust: TrustStore, branch: string): Promise<AuditReport> {
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
    if (!hasArbiterTrailers(trailers)) findings.push({ severity: 'error', kind: 'foreign-ledger-commit', commit: oid, detail: 'ledger commit without Arbiter- trailers' });
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

  // 2. entries: every ledger commit's entry is still in the tip tree, and every entry came from a ledger commit
  const files = ledgerTip ? await decisionFiles(store, (await readCommit(store, ledgerTip)).tree) : new Map<string, string>();
  const recorded = new Set<string>();
  const target = await reachable(store, targetTip);
  const actuations = new Set<string>();
  // idempotency key → decision id, for approval decisions that opened a pull request (a reviewer may squash-merge it)
  const pullRequestKeys = new Map<string, Set<string>>();
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
    if (isDecision && entry.mode === 'approval' && act?.pullRequest) {
      const ids = pullRequestKeys.get(entry.idempotencyKey) ?? new Set<string>();
      pullRequestKeys.set(entry.idempotencyKey, ids.add(entry.id));
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

  // 3. the target branch: every commit carrying Arbiter- trailers is signed by an allowed signer and in the ledger
  let arbiterCommits = 0;
  for (const commit of target.values()) {
    const trailers = parseTrailers(commit.message);
    if (!hasArbiterTrailers(trailers)) continue;
    arbiterCommits++;
    if (!actuations.has(commit.oid) && isReviewedMerge(trailers, pullRequestKeys)) {
      // a squash or rebase merge repeats the pull request's trailers; the reviewer (or the forge) signs it, not arbiter
      findings.push({ severity: 'info', kind: 'reviewed-merge', commit: commit.oid, detail: `a reviewer merged arbiter's pull request for ${trailers['Arbiter-Decision']}` });
      continue;
    }
    const verdict = await trust.verify(commit);
    if (!('signer' in verdict)) findings.push({ severity: 'error', kind: verdict.kind, commit: commit.oid, detail: `commit on ${branch} with Arbiter- trailers: ${verdict.detail}` });
    if (!actuations.has(commit.oid) && trailers['Arbiter-Decision']) {
      findings.push({ severity: 'warning', kind: 'unrecorded-actuation', commit: commit.oid, detail: `no ledger entry records this commit (the next act for key ${trailers['Arbiter-Idempotency-Key'] ?? '?'} records it)` });
    }
  }

  decisions.sort((a, b) => a.at.localeCompare(b.at) || a.ledgerCommit.localeCompare(b.ledgerCommit));
  return {
    ok: !findings.some((f) => f.severity === 'error'),
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
  lines.push(
    '',
    `${report.decisions.length} ledger entries, ${report.ledger.commits} ledger commits, ${report.arbiterCommitsOnBranch} arbiter commits on ${report.branch}: ` +
      (report.ok ? 'audit passed' : `audit FAILED (${errors} error${errors === 1 ? '' : 's'})`),
  );
  return `${lines.join('\n')}\n`;
}
