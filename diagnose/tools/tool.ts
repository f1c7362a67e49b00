// A read-only investigation tool: a name, a zod input schema (sent to the model as JSON Schema), a run function, and
// the bounds every call is held to. Nothing here writes anywhere; the runner enforces time, size and count.
import { z } from 'zod';
import { fieldPath } from '../../engine/ingest.ts';

export interface ToolLimits {
  /** Wall time of one call; the call's AbortSignal fires then and the result is an error. */
  timeoutMs: number;
  /** Characters of the serialised result passed to the model; longer results are cut with a note. */
  maxResultChars: number;
  /** Calls of this tool in one investigation; further calls get an error result. */
  maxCalls: number;
}

export const DEFAULT_LIMITS: ToolLimits = { timeoutMs: 10_000, maxResultChars: 12_000, maxCalls: 6 };

export interface InvestigationTool<I = any> {
  name: string;
  description: string;
  input: z.ZodType<I>;
  limits?: Partial<ToolLimits>;
  run(input: I, signal: AbortSignal): Promise<unknown>;
}

/** The tool definition the Messages API expects. */
export function toolDefinition(tool: InvestigationTool): { name: string; description: string; input_schema: Record<string, unknown> } {
  const schema = z.toJSONSchema(tool.input, { io: 'input' }) as Record<string, unknown>;
  delete schema.$schema;
  return { name: tool.name, description: tool.description, input_schema: schema };
}

/** What one call produced, as the model sees it, plus what the record keeps. */
export interface ToolOutcome {
  content: string;
  isError: boolean;
}

/**
 * Tool output is data from systems an attacker may write to (logs, commit messages, labels): it reaches the model
 * inside one delimited element, JSON-encoded, with `<` and `>` escaped so no value can close the element early.
 */
export function asData(tag: string, attributes: Record<string, string>, value: unknown, maxChars: number): string {
  let json = JSON.stringify(value ?? null).replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
  if (json.length > maxChars) json = `${JSON.stringify(json.slice(0, maxChars))} (truncated: ${json.length - maxChars} more characters were not shown)`;
  const attrs = Object.entries(attributes).map(([k, v]) => ` ${k}="${v.replace(/[^A-Za-z0-9_.:-]/g, '')}"`).join('');
  return `<${tag}${attrs} trust="untrusted-data">\n${json}\n</${tag}>`;
}

export class ToolTimeoutError extends Error {}

/** Runs `tool` on the model's `raw` input within its limits; never throws (every failure is an error result). */
export async function runTool(tool: InvestigationTool, raw: unknown, callsSoFar: number, outer: AbortSignal): Promise<ToolOutcome> {
  const limits = { ...DEFAULT_LIMITS, ...tool.limits };
  const error = (message: string): ToolOutcome => ({ content: `${tool.name} failed: ${message}`, isError: true });
  if (callsSoFar >= limits.maxCalls) return error(`the limit of ${limits.maxCalls} calls per investigation is reached; continue with what you have`);
  const parsed = tool.input.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return error(`input ${fieldPath(issue.path) || '(input)'}: ${issue.message}`);
  }
  const controller = new AbortController();
  const signal = AbortSignal.any([outer, controller.signal]);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new ToolTimeoutError(`timed out after ${limits.timeoutMs} ms`));
      reject(new ToolTimeoutError(`timed out after ${limits.timeoutMs} ms`));
    }, limits.timeoutMs);
  });
  try {
    const value = await Promise.race([tool.run(parsed.data, signal), timeout]);
    return { content: asData('tool_output', { tool: tool.name }, value, limits.maxResultChars), isError: false };
  } catch (err) {
    const message = err instanceof ToolTimeoutError ? err.message : err instanceof Error ? err.message : String(err);
    return error(message.split('\n')[0]!.slice(0, 500));
  } finally {
    clearTimeout(timer);
  }
}
