// One arbiter `act` in its own process (stub decision core), for the concurrency test:
//   node --import tsx test/gitops/act-process.ts <repo-url> <cache-dir> <key-file> <diagnosis-json>
import { readFileSync } from 'node:fs';
import { act } from '../../app/act.ts';
import { sshSigner } from '../../gitops/sign/sshsig.ts';
import { stubBundle, stubCore } from './stub-core.ts';

const [url, cacheDir, keyFile, diagnosisJson] = process.argv.slice(2) as [string, string, string, string];
const result = await act({
  diagnosis: JSON.parse(diagnosisJson),
  bundle: stubBundle,
  repo: url,
  cacheDir,
  signer: sshSigner(readFileSync(keyFile, 'utf8')),
  core: stubCore(),
  now: '2026-11-21T02:13:00Z',
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${JSON.stringify(result)}\n`);
