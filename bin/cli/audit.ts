// `arbiter audit`: reconstruct the decision log from Git and verify it (DESIGN §6 Audit). Exit 1 when anything is wrong.
import { InputError } from '../../engine/errors.ts';
import { audit, formatAuditReport } from '../../gitops/audit.ts';
import { parseCommandLine, UsageError } from './args.ts';

const USAGE = `usage: arbiter audit --repo PATH|URL --allowed-signers FILE [--branch main] [--expect-ledger OID] [--json]

  --repo PATH|URL          GitOps repository (local path or http(s) URL)
  --allowed-signers FILE   ssh-keygen allowed-signers lines and/or armored OpenPGP public keys
  --branch NAME            target branch (default main)
  --cache-dir DIR          where remotes are cached (default $XDG_CACHE_HOME/arbiter)
  --expect-ledger OID      a ledger head an earlier audit printed: fail unless the ledger still holds it
                           (detects a ledger cut back or reset since then)
  --json                   print the report as one JSON document
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, USAGE, {
    repo: { type: 'string' },
    'allowed-signers': { type: 'string' },
    branch: { type: 'string', default: 'main' },
    'cache-dir': { type: 'string' },
    'expect-ledger': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (!args) return 0;
  const { values } = args;
  if (!values.repo || !values['allowed-signers']) throw new UsageError(`--repo and --allowed-signers are required`);
  const expectLedger = values['expect-ledger'];
  if (expectLedger !== undefined && !/^[0-9a-f]{40}$/.test(expectLedger)) throw new InputError('must be a full commit id (40 hex) printed by an earlier audit', '--expect-ledger');
  const report = await audit({
    repo: values.repo,
    allowedSigners: values['allowed-signers'],
    branch: values.branch,
    ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
    ...(expectLedger ? { expectLedger } : {}),
  });
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatAuditReport(report));
  return report.ok ? 0 : 1;
}
