// `arbiter serve --config FILE`: the HTTP intake (DESIGN §8). Runs until SIGTERM/SIGINT, then shuts down gracefully.
import { UsageError } from './args.ts';
import { parseArgs } from 'node:util';
import { loadServeConfig } from '../../serve/config.ts';
import { serverDeps } from '../../serve/deps.ts';
import { startServer } from '../../serve/server.ts';

const USAGE = `usage: arbiter serve --config FILE

  --config FILE   server configuration (YAML): listen address, repository, branch, bundle, signing key, forge,
                  notifier, Argo CD or Flux, Prometheus, metric queries, timeouts, intake token

Endpoints: POST /v1/diagnoses (JSON or YAML), POST /v1/cloudevents (structured or binary mode),
POST /v1/alertmanager (webhook v4), GET /v1/status, GET /healthz. See the README for the config reference.
`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.config) throw new UsageError(`--config is required`);
  const config = loadServeConfig(values.config);
  const server = await startServer(config, await serverDeps(config));
  // the ready line goes to stdout so a supervisor (or a test) can read the bound address
  process.stdout.write(`${JSON.stringify({ listening: server.url })}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      process.stderr.write(`arbiter serve: ${signal}: shutting down\n`);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      void server.close().then(resolve);
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  return 0;
}
