// `arbiter act`: decide on a diagnosis and carry the decision out on a GitOps repository (DESIGN §6, §8).
import { act, type ActResult } from '../../app/act.ts';
import { DEFAULT_BUNDLE } from '../../app/bundle.ts';
import { InputError } from '../../engine/errors.ts';
import { loadSigner } from '../../gitops/sign/load.ts';
import { parseCommandLine, UsageError } from './args.ts';
import { FORGE_USAGE, forgeFromFlags } from './options.ts';

const USAGE = `usage: arbiter act --diagnosis FILE --repo PATH|URL --signing-key FILE [options]

  --diagnosis FILE         the Diagnosis (JSON, YAML or a CloudEvent)
  --context FILE           explicit Context values; they win field by field
  --bundle DIR             policy bundle (default: the shipped policies/remediation)
  --repo PATH|URL          GitOps repository: a local path (bare, or a branch not checked out) or an http(s) URL
  --branch NAME            target branch (default main)
  --signing-key FILE       OpenSSH Ed25519 private key, or an armored OpenPGP private key (unencrypted)
  --signing-format FORMAT  ssh | openpgp (default: from the key file)
${FORGE_USAGE}
  --now RFC3339            decision time (default: the context file's now, else the diagnosis observedAt)
  --cache-dir DIR          where remotes are cached (default $XDG_CACHE_HOME/arbiter)
  --json                   print {decision, actuation} as one JSON document

Credentials: ARBITER_GIT_TOKEN (or ARBITER_GIT_USERNAME + ARBITER_GIT_PASSWORD) for Git over HTTP(S);
ARBITER_GITHUB_TOKEN / ARBITER_GITLAB_TOKEN or GITLAB_TOKEN (else ARBITER_GIT_TOKEN) for the forge API. ARBITER_KUBECTL: the kubectl for the render check
(default: kubectl on PATH, else /usr/bin/kubectl); empty skips the check, and the actuation notes say so.
`;

function summary(result: ActResult): string {
  const { decision: d, actuation: a } = result;
  const lines = [
    `decision ${d.id}: ${d.mode}${d.wouldBe ? ` (would be ${d.wouldBe})` : ''} ${d.action ? `${d.action.kind} ${d.action.target.namespace}/${d.action.target.service}` : 'no action'} (support ${d.support.toFixed(2)})`,
  ];
  if (a.repeated) lines.push(`already carried out (found in ${a.foundIn}): nothing changed`);
  if (a.commit) lines.push(`commit ${a.commit} on ${a.branch}${a.changed.length ? `: ${a.changed.join(', ')}` : ''}`);
  if (a.pullRequest) lines.push(`pull request #${a.pullRequest.number} ${a.pullRequest.url}`);
  if (a.ledgerCommit) lines.push(`ledger ${a.ledgerCommit} on arbiter/ledger`);
  for (const n of a.notes) lines.push(`note: ${n}`);
  for (const r of d.rationale) lines.push(`  - ${r}`);
  return `${lines.join('\n')}\n`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, USAGE, {
    diagnosis: { type: 'string' },
    context: { type: 'string' },
    bundle: { type: 'string' },
    repo: { type: 'string' },
    branch: { type: 'string', default: 'main' },
    'signing-key': { type: 'string' },
    'signing-format': { type: 'string' },
    forge: { type: 'string' },
    'forge-url': { type: 'string' },
    'forge-repo': { type: 'string' },
    now: { type: 'string' },
    'cache-dir': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (!args) return 0;
  const { values } = args;
  for (const required of ['diagnosis', 'repo', 'signing-key'] as const) {
    if (!values[required]) throw new UsageError(`--${required} is required`);
  }
  if (values.now !== undefined && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(values.now)) {
    throw new InputError('must be an RFC 3339 timestamp such as 2026-11-21T02:13:00Z', '--now');
  }
  const forge = forgeFromFlags(values, 'act');
  const signer = await loadSigner(values['signing-key']!, values['signing-format'] !== undefined ? { format: values['signing-format'] } : {});
  const result = await act({
    diagnosis: values.diagnosis!,
    ...(values.context ? { context: values.context } : {}),
    bundle: values.bundle ?? DEFAULT_BUNDLE,
    repo: values.repo!,
    branch: values.branch,
    signer,
    ...(forge ? { forge } : {}),
    ...(values.now ? { now: values.now } : {}),
    ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
    // ARBITER_KUBECTL: the kubectl the render check runs; empty skips the check (the actuation notes say so)
    ...(process.env.ARBITER_KUBECTL !== undefined ? { kubectl: process.env.ARBITER_KUBECTL } : {}),
    log: (line) => process.stderr.write(`arbiter act: ${line}\n`),
  });
  if (values.json) {
    const { decision, actuation } = result;
    process.stdout.write(`${JSON.stringify({ decision, actuation })}\n`);
  } else process.stdout.write(summary(result));
  return 0;
}
