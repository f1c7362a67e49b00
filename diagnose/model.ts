// The Messages API client: @anthropic-ai/sdk with bounded retries and timeouts, and the one place SDK errors become
// arbiter's (overloaded/rate limited/unreachable → ModelUnavailableError exit 75; refused request → exit 2).
import Anthropic from '@anthropic-ai/sdk';
import { InputError } from '../engine/errors.ts';
import { ModelRequestError, ModelUnavailableError } from './errors.ts';

/** The Opus class reasons about root causes; the Haiku class triages (ids from the SDK's model list, none deprecated). */
export const DEFAULT_MODEL = 'claude-opus-5-5';
export const DEFAULT_TRIAGE_MODEL = 'claude-haiku-5-5';

export const MAX_RETRIES_CAP = 5;
export const REQUEST_TIMEOUT_CAP_MS = 300_000;

export interface ModelClientOptions {
  /** Default: ANTHROPIC_API_KEY. */
  apiKey?: string;
  /** Default: ANTHROPIC_BASE_URL, else the SDK's. */
  baseURL?: string;
  /** SDK retries of 408/409/429/5xx/connection errors (honouring retry-after), at most 5; default 2. */
  maxRetries?: number;
  /** Per request, at most 300 s; default 90 s. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export type ModelClient = Anthropic;

export function createModelClient(options: ModelClientOptions = {}): ModelClient {
  const env = options.env ?? process.env;
  const apiKey = options.apiKey ?? env.ANTHROPIC_API_KEY;
  if (!apiKey) throw new InputError('is not set: the diagnosis tier needs a key for the Anthropic Messages API', 'ANTHROPIC_API_KEY');
  const baseURL = options.baseURL ?? (env.ANTHROPIC_BASE_URL || undefined);
  return new Anthropic({
    apiKey,
    ...(baseURL ? { baseURL } : {}),
    maxRetries: Math.min(Math.max(0, options.maxRetries ?? 2), MAX_RETRIES_CAP),
    timeout: Math.min(Math.max(1000, options.timeoutMs ?? 90_000), REQUEST_TIMEOUT_CAP_MS),
  });
}

/** One line about an SDK failure, as arbiter reports it. */
export function modelError(err: unknown, retries: number): Error {
  if (err instanceof Anthropic.APIConnectionError) {
    return new ModelUnavailableError(`the Anthropic API could not be reached (${err instanceof Anthropic.APIConnectionTimeoutError ? 'timed out' : err.message.split('\n')[0]}) after ${retries} retries; try again later`);
  }
  if (err instanceof Anthropic.APIError) {
    const body = err.error as { error?: { type?: unknown; message?: unknown } } | undefined;
    const type = typeof body?.error?.type === 'string' ? body.error.type : 'error';
    const message = typeof body?.error?.message === 'string' ? body.error.message.split('\n')[0]!.slice(0, 200) : '';
    const status = err.status ?? 0;
    const what = `HTTP ${status} ${type}${message ? `: ${message}` : ''}`;
    if (status === 529 || type === 'overloaded_error') return new ModelUnavailableError(`the Anthropic API is overloaded (${what}) after ${retries} retries; try again later`);
    if (status === 429) return new ModelUnavailableError(`the Anthropic API rate limit is reached (${what}) after ${retries} retries; try again later`);
    if (status === 408 || status >= 500) return new ModelUnavailableError(`the Anthropic API failed (${what}) after ${retries} retries; try again later`);
    if (status === 401 || status === 403) return new ModelRequestError(`the API key was refused (${what})`, 'ANTHROPIC_API_KEY');
    if (status === 404) return new ModelRequestError(`not found (${what}); check the model name`, 'model');
    return new ModelRequestError(`the Anthropic API refused the request (${what})`);
  }
  return err instanceof Error ? err : new Error(String(err));
}
