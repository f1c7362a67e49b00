// `arbiter serve --config FILE` (DESIGN §8): the server's YAML configuration, validated with zod; errors name the field.
// Secrets are never written in the file: a secret is `{ env: NAME }` or `{ file: PATH }`.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../engine/errors.ts';
import { parseDocument, schemaError, schemaProblems } from '../engine/ingest.ts';
import { parseDuration } from '../app/verify.ts';
import { FORGE_IDS, type ForgeId } from '../gitops/forge/registry.ts';

const Duration = z.string().refine((s) => parseDuration(s) !== undefined, 'must be a duration such as 500ms, 15s, 10m or 1h30m');
const Secret = z.union([z.object({ env: z.string().min(1) }).strict(), z.object({ file: z.string().min(1) }).strict()]);
const HttpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL');
const ModelName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/, 'must be a model name such as claude-opus-5-5');

const MetricRule = z.union([
  z.string().min(1),
  z
    .object({
      query: z.string().min(1),
      threshold: z.number().finite().optional(),
      improvementPercent: z.number().gt(0).lt(100).optional(),
    })
    .strict(),
]);

export const ServeConfigSchema = z
  .object({
    /** `host:port`; port 0 picks a free port. */
    listen: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:8080').default('127.0.0.1:8080'),
    repo: z.string().min(1),
    branch: z.string().min(1).default('main'),
    /** Default: the shipped policies/remediation bundle. */
    bundle: z.string().min(1).optional(),
    signing: z.object({ key: z.string().min(1), format: z.enum(['ssh', 'openpgp']).optional() }).strict(),
    cacheDir: z.string().min(1).optional(),
    forge: z.object({ kind: z.enum(FORGE_IDS), url: HttpUrl, repo: z.string().regex(/^[\w.-]+(\/[\w.-]+)+$/, 'must be OWNER/NAME (GitLab: GROUP/SUBGROUP/PROJECT)'), token: Secret.optional() }).strict().optional(),
    intake: z
      .object({
        /** Bearer token every /v1 request must carry. Without one the intake is open (a warning is logged). */
        token: Secret.optional(),
        maxBodyBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024),
      })
      .strict()
      .default({ maxBodyBytes: 1024 * 1024 }),
    notifier: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('log') }).strict(),
        z.object({ kind: z.literal('none') }).strict(),
        z
          .object({
            kind: z.literal('webhook'),
            url: HttpUrl,
            attempts: z.number().int().min(1).max(10).default(3),
            timeout: Duration.default('5s'),
            headers: z.record(z.string(), z.string()).optional(),
          })
          .strict(),
      ])
      .default({ kind: 'log' }),
    argocd: z.object({ url: HttpUrl, token: Secret.optional(), applications: z.record(z.string(), z.string()).default({}) }).strict().optional(),
    flux: z.object({ command: z.array(z.string().min(1)).min(1), timeout: Duration.default('30s') }).strict().optional(),
    prometheus: z.object({ url: HttpUrl, token: Secret.optional() }).strict().optional(),
    /** PromQL per verification metric; `$service`, `$namespace`, `$window` are substituted. */
    metrics: z.record(z.string(), MetricRule).default({}),
    verification: z
      .object({
        enabled: z.boolean().default(true),
        reconcileTimeout: Duration.default('10m'),
        pollInterval: Duration.default('15s'),
        /** Overrides every action's window (the action's own window otherwise). */
        window: Duration.optional(),
        consecutive: z.number().int().min(1).max(100).default(1),
        /** For metrics given as a bare query: recovered when this many percent better than the diagnosis signal. */
        improvementPercent: z.number().gt(0).lt(100).default(20),
      })
      .strict()
      .default({ enabled: true, reconcileTimeout: '10m', pollInterval: '15s', consecutive: 1, improvementPercent: 20 }),
    /** How often due follow-ups (scheduled reverts, promotions) are carried out; `0s` turns it off. */
    reconcile: z.object({ interval: Duration.default('60s') }).strict().default({ interval: '60s' }),
    timeouts: z.object({ shutdown: Duration.default('30s') }).strict().default({ shutdown: '30s' }),
    /** Alertmanager alerts through the LLM diagnosis tier (diagnose/) before deciding; `heuristic` maps them directly. */
    diagnosis: z
      .object({
        tier: z.enum(['heuristic', 'llm']).default('heuristic'),
        model: ModelName.optional(),
        triageModel: ModelName.optional(),
        /** Default: the ANTHROPIC_API_KEY environment variable. */
        apiKey: Secret.optional(),
        /** Default: ANTHROPIC_BASE_URL, else the SDK's. */
        baseUrl: HttpUrl.optional(),
        maxTurns: z.number().int().min(1).max(50).optional(),
        /** The whole investigation; the alert is mapped heuristically when it runs out. */
        timeout: Duration.default('3m'),
        maxRetries: z.number().int().min(0).max(5).default(2),
        runbooks: z.string().min(1).optional(),
      })
      .strict()
      .default({ tier: 'heuristic', timeout: '3m', maxRetries: 2 }),
    /** Where accepted diagnoses wait: in this process (default), or on a NATS JetStream bus shared with workers. */
    queue: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('memory') }).strict(),
        z
          .object({
            kind: z.literal('nats'),
            url: z.string().regex(/^(nats|tls):\/\/[^\s]+$/, 'must be a nats:// URL'),
            /** An unacknowledged message (a worker died mid-decision) is delivered again after this long. */
            ackWait: Duration.default('30s'),
            /** Alerts with the same fingerprint (service, cause, incident) inside this window are suppressed. */
            dedupeWindow: Duration.default('2m'),
            /** Decisions one worker process carries out at once. */
            concurrency: z.number().int().min(1).max(64).default(1),
          })
          .strict(),
      ])
      .default({ kind: 'memory' }),
  })
  .strict()
  .refine((c) => !(c.argocd && c.flux), { message: 'configure argocd or flux, not both', path: ['flux'] });
export type ServeConfigInput = z.input<typeof ServeConfigSchema>;
export type ServeConfigRaw = z.infer<typeof ServeConfigSchema>;

/** The validated configuration with paths resolved against the config file and secrets read. */
export interface ServeConfig extends Omit<ServeConfigRaw, 'forge' | 'intake' | 'argocd' | 'prometheus' | 'diagnosis'> {
  source: string;
  host: string;
  port: number;
  forge?: { kind: ForgeId; url: string; repo: string; token?: string };
  intake: { token?: string; maxBodyBytes: number };
  argocd?: { url: string; token?: string; applications: Record<string, string> };
  prometheus?: { url: string; token?: string };
  diagnosis: Omit<ServeConfigRaw['diagnosis'], 'apiKey'> & { apiKey?: string };
}

function readSecret(secret: z.infer<typeof Secret> | undefined, field: string, source: string, base: string, env: NodeJS.ProcessEnv): string | undefined {
  if (!secret) return undefined;
  if ('env' in secret) {
    const value = env[secret.env];
    if (!value) throw new InputError(`environment variable ${secret.env} is not set`, `${source}: ${field}.env`);
    return value;
  }
  try {
    const value = readFileSync(isAbsolute(secret.file) ? secret.file : resolve(base, secret.file), 'utf8').trim();
    if (!value) throw new Error('empty');
    return value;
  } catch (err) {
    throw new InputError(`cannot read the secret file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, `${source}: ${field}.file`);
  }
}

function diagnosisTier(d: ServeConfigRaw['diagnosis'], source: string, base: string, env: NodeJS.ProcessEnv): ServeConfig['diagnosis'] {
  const { apiKey: secret, ...rest } = d;
  const apiKey = readSecret(secret, 'diagnosis.apiKey', source, base, env) ?? (env.ANTHROPIC_API_KEY || undefined);
  if (d.tier === 'llm' && !apiKey) throw new InputError('is required for tier llm: a secret ({ env: NAME } or { file: PATH }), or set ANTHROPIC_API_KEY', `${source}: diagnosis.apiKey`);
  return { ...rest, ...(apiKey ? { apiKey } : {}) };
}

/** What a command needs from the config: `verify` does not take diagnoses, so it does not read the intake token. */
export interface ConfigNeeds {
  intakeToken?: boolean;
}

/**
 * Validates a parsed config document; `source` names the file in errors, relative paths resolve against `base`.
 * Every problem is reported at once (schema issues, then secrets and the port), one `field: problem` per line.
 */
export function validateServeConfig(value: unknown, source: string, base: string, env: NodeJS.ProcessEnv = process.env, needs: ConfigNeeds = {}): ServeConfig {
  const r = ServeConfigSchema.safeParse(value ?? {}, { reportInput: true });
  if (!r.success) {
    if (r.error.issues.length === 1) throw schemaError(r.error, source);
    throw configProblems(source, schemaProblems(r.error));
  }
  const c = r.data;
  const problems: string[] = [];
  const collect = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push(`${(err.field ?? '').replace(`${source}: `, '') || '(document)'}: ${err.detail}`);
      return undefined;
    }
  };
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  const colon = c.listen.lastIndexOf(':');
  const port = Number(c.listen.slice(colon + 1));
  if (port > 65535) problems.push('listen: the port must be at most 65535');
  const forgeToken = c.forge ? collect(() => readSecret(c.forge!.token, 'forge.token', source, base, env)) : undefined;
  const intakeToken = needs.intakeToken === false ? undefined : collect(() => readSecret(c.intake.token, 'intake.token', source, base, env));
  const argocdToken = c.argocd ? collect(() => readSecret(c.argocd!.token, 'argocd.token', source, base, env)) : undefined;
  const prometheusToken = c.prometheus ? collect(() => readSecret(c.prometheus!.token, 'prometheus.token', source, base, env)) : undefined;
  const diagnosis = collect(() => diagnosisTier(c.diagnosis, source, base, env));
  if (problems.length === 1) {
    const [field, ...rest] = problems[0]!.split(': ');
    throw new InputError(rest.join(': '), `${source}: ${field}`);
  }
  if (problems.length > 1) throw configProblems(source, problems);
  return {
    ...c,
    source,
    host: c.listen.slice(0, colon).replace(/^\[|\]$/g, ''),
    port,
    repo: /^https?:\/\//i.test(c.repo) ? c.repo : at(c.repo),
    ...(c.bundle ? { bundle: at(c.bundle) } : {}),
    signing: { ...c.signing, key: at(c.signing.key) },
    ...(c.cacheDir ? { cacheDir: at(c.cacheDir) } : {}),
    forge: c.forge ? { kind: c.forge.kind, url: c.forge.url, repo: c.forge.repo, token: forgeToken } : undefined,
    intake: { maxBodyBytes: c.intake.maxBodyBytes, token: intakeToken },
    argocd: c.argocd ? { url: c.argocd.url, applications: c.argocd.applications, token: argocdToken } : undefined,
    prometheus: c.prometheus ? { url: c.prometheus.url, token: prometheusToken } : undefined,
    diagnosis: diagnosis!,
  };
}

/** Several problems: the first line counts them, then one indented `field: problem` line each. */
function configProblems(source: string, problems: string[]): InputError {
  return new InputError(`${problems.length} problems:\n${problems.map((p) => `  ${p}`).join('\n')}`, source);
}

export function loadServeConfig(file: string, env: NodeJS.ProcessEnv = process.env, needs: ConfigNeeds = {}): ServeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, '--config');
  }
  return validateServeConfig(parseDocument(text, file), file, dirname(resolve(file)), env, needs);
}
