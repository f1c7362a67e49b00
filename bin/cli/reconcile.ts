// `arbiter reconcile`: carry out due follow-ups (scheduled reverts, staged promotions) as signed commits.
import { reconcile, type ReconcileResult } from '../../app/reconcile.ts';
import { loadBundle } from '../../engine/bundle.ts';
import { InputError } from '../../engine/errors.ts';
import { Rfc3339 } from '../../engine/types.ts';
import { loadSigner } from '../../gitops/sign/load.ts';
import { parseCommandLine } from './args.ts';
import { forgeFromFlags } from './options.ts';

const USAGE = `usage: arbiter reconcile --repo PATH|URL --signing-key FILE [--signing-format ssh|openpgp] [--branch main]
                         [--bundle DIR] [--now RFC3339] [--json]
                         [--forge github|gitlab --forge-url URL --forge-repo OWNER/NAME]

  --repo PATH|URL        the GitOps repository (bare or remote); the ledger is its arbiter/ledger branch
  --signing-key FILE     SSH Ed25519 or OpenPGP private key; every follow-up commit is signed
  --signing-format F     ssh or openpgp (default: detected from the key file)
  --branch NAME          target branch (default main)
  --bundle DIR           policy bundle whose arbiter.yaml settings the planners use (stagedRollout, …)
  --now RFC3339          the time follow-ups are due against (default: the clock)
  --json                 print the result as one JSON document
  --forge github           read approval-mode pull requests on GitHub: merge time starts a follow-up's clock,
                           closed without merging cancels it (without a forge: found on the branch by trailers)
  --forge-url URL          GitHub API base URL (e.g. https://api.github.com)
  --forge-repo OWNER/NAME  the repository on the forge

ARBITER_GITHUB_TOKEN / ARBITER_GITLAB_TOKEN or GITLAB_TOKEN (else ARBITER_GIT_TOKEN) for the forge API.
`;

function printPretty(result: ReconcileResult): void {
  const lines = result.steps.map((s) => `${s.outcome.padEnd(15)} ${s.kind.padEnd(7)} ${s.decision}  ${s.commit ? s.commit.slice(0, 12) : '-'}  ${s.detail}`);
  for (const p of result.pending) lines.push(`${'pending'.padEnd(15)} ${p.kind.padEnd(7)} ${p.decision}  ${p.pullRequest === undefined ? `due ${p.due}` : p.detail}`);
  if (lines.length === 0) lines.push('nothing due');
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, USAGE, {
    repo: { type: 'string' },
    'signing-key': { type: 'string' },
    'signing-format': { type: 'string' },
    branch: { type: 'string' },
    bundle: { type: 'string' },
    now: { type: 'string' },
    json: { type: 'boolean' },
    forge: { type: 'string' },
    'forge-url': { type: 'string' },
    'forge-repo': { type: 'string' },
  });
  if (!args) return 0;
  const { values } = args;
  if (!values.repo) throw new InputError('required', '--repo');
  if (!values['signing-key']) throw new InputError('required: arbiter signs every commit it writes', '--signing-key');
  if (values.now !== undefined && !Rfc3339.safeParse(values.now).success) throw new InputError('must be an RFC 3339 timestamp such as 2026-11-21T02:13:00Z', '--now');
  const forge = forgeFromFlags(values, 'reconcile');
  const signer = await loadSigner(values['signing-key'], values['signing-format'] !== undefined ? { format: values['signing-format'] } : {});
  const settings = values.bundle ? (await loadBundle(values.bundle)).settings : undefined;
  const result = await reconcile({
    repo: values.repo,
    branch: values.branch,
    now: values.now,
    signer,
    settings,
    ...(forge ? { forge } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else printPretty(result);
  // a refused follow-up needs a human: the check failed
  return result.steps.some((s) => s.outcome === 'refused') ? 1 : 0;
}
