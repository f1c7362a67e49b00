// `arbiter act`: decide on a diagnosis and carry the decision out on a GitOps repository (DESIGN §6, §8).
import { readFileSync } from 'node:fs';
import { InputError } from '../../engine/errors.ts';
import { act, type ActResult } from '../../app/act.ts';
import { GitHubForge } from '../../gitops/forge/github.ts';
import { openpgpSigner } from '../../gitops/sign/openpgp.ts';
import type { Signer } from '../../gitops/sign/signer.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { DEFAULT_BUNDLE } from './decide.ts';
import { parseCommandLine } from './args.ts';

const USAGE = `usage: arbiter act --diagnosis FILE --repo PATH|URL --signing-key FILE [options]

  --diagnosis FILE         the Diagnosis (JSON, YAML or a CloudEvent)
  --context FILE           explicit Context values; they win field by field
  --bundle DIR             policy bundle (default: the shipped policies/remediation)
  --repo PATH|URL          GitOps repository: a local path (bare, or a branch not checked out) or an http(s) URL
  --branch NAME            target branch (default main)
  --signing-key FILE       OpenSSH Ed25519 private key, or an armored OpenPGP private key (unencrypted)
  --signing-format FORMAT  ssh | openpgp (default: from the key file)
  --forge github           open pull requests (approval mode) on GitHub
  --forge-url URL          GitHub API base URL (e.g. https://api.github.com)
  --forge-repo OWNER/NAME  the repository on the forge
  --now RFC3339            decision time (default: the context file's now, else the diagnosis observedAt)
  --cache-dir DIR          where remotes are cached (default $XDG_CACHE_HOME/arbiter)
  --json                   print {decision, actuation} as one JSON document

Credentials: ARBITER_GIT_TOKEN (or ARBITER_GIT_USERNAME + ARBITER_GIT_PASSWORD) for Git over HTTP(S);
ARBITER_GITHUB_TOKEN (else ARBITER_GIT_TOKEN) for the GitHub API.
`;

export function loadSigner(file: string, format?: string): Promise<Signer> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the signing key (${(err as NodeJS.ErrnoException).code ?? String(err)})`, '--signing-key');
  }
  const detected = text.includes('BEGIN PGP PRIVATE KEY BLOCK') ? 'openpgp' : 'ssh';
  const chosen = format ?? detected;
  if (chosen !== 'ssh' && chosen !== 'openpgp') throw new InputError('must be ssh or openpgp', '--signing-format');
  return chosen === 'ssh' ? Promise.resolve(sshSigner(text, file)) : openpgpSigner(text, file);
}

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
    if (!values[required]) throw new InputError(`--${required} is required\n${USAGE}`);
  }
  if (values.now !== undefined && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(values.now)) {
    throw new InputError('must be an RFC 3339 timestamp such as 2026-11-21T02:13:00Z', '--now');
  }
  let forge;
  if (values.forge !== undefined) {
    if (values.forge !== 'github') throw new InputError('only "github" is supported', '--forge');
    if (!values['forge-url'] || !values['forge-repo']) throw new InputError('--forge github needs --forge-url and --forge-repo');
    forge = new GitHubForge({
      baseUrl: values['forge-url'],
      repository: values['forge-repo'],
      token: process.env.ARBITER_GITHUB_TOKEN || process.env.ARBITER_GIT_TOKEN,
      log: (line) => process.stderr.write(`arbiter act: ${line}\n`),
    });
  }
  const signer = await loadSigner(values['signing-key']!, values['signing-format']);
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
    log: (line) => process.stderr.write(`arbiter act: ${line}\n`),
  });
  if (values.json) {
    const { decision, actuation } = result;
    process.stdout.write(`${JSON.stringify({ decision, actuation })}\n`);
  } else process.stdout.write(summary(result));
  return 0;
}
