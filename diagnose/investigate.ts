// The agent loop (Messages API with tool use): the model calls read-only tools until it calls submit_diagnosis with a
// valid Diagnosis, within a turn, token and time budget. Invalid submissions go back to the model as tool errors
// naming the field, at most twice; the third is refused.
import type Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import { InputError } from '../engine/errors.ts';
import { validateDiagnosis } from '../engine/ingest.ts';
import type { Diagnosis, Investigation } from '../engine/types.ts';
import { InvestigationBudgetError, SubmissionRefusedError } from './errors.ts';
import { modelError, type ModelClient } from './model.ts';
import { CAUSES, firstMessage, NUDGE, SYSTEM_PROMPT } from './prompt.ts';
import type { Seed } from './seed.ts';
import { checkSubmission, SUBMIT_TOOL, submitToolDefinition } from './submission.ts';
import { runTool, toolDefinition, type InvestigationTool } from './tools/tool.ts';

export interface Budget {
  /** Model calls of the root-cause model (the last one is forced to submit). */
  maxTurns: number;
  /** Input plus output tokens over the whole investigation, triage included. */
  maxTokens: number;
  /** Wall time of the whole investigation. */
  timeMs: number;
}

export const DEFAULT_BUDGET: Budget = { maxTurns: 12, maxTokens: 400_000, timeMs: 180_000 };
/** Invalid submissions returned to the model for correction before the next one is refused. */
export const CORRECTIONS = 2;
const MAX_OUTPUT_TOKENS = 4096;

export interface InvestigateOptions {
  client: ModelClient;
  model: string;
  triageModel?: string;
  tools: InvestigationTool[];
  budget?: Partial<Budget>;
  log?: (line: string) => void;
}

export interface InvestigationResult {
  diagnosis: Diagnosis;
  investigation: Investigation;
}

type Usage = { inputTokens: number; outputTokens: number };

function addUsage(total: Usage, usage: Anthropic.Usage | undefined): void {
  if (!usage) return;
  total.inputTokens += (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
  total.outputTokens += usage.output_tokens ?? 0;
}

const TriageNote = z.object({ likelyCauses: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/)).min(1).max(3), summary: z.string().max(300) }).strict();

export async function investigate(seed: Seed, options: InvestigateOptions): Promise<InvestigationResult> {
  const budget = { ...DEFAULT_BUDGET, ...options.budget };
  const log = options.log ?? (() => undefined);
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  const calls = new Map<string, { calls: number; failed: number }>();
  const byName = new Map(options.tools.map((t) => [t.name, t]));
  if (byName.has(SUBMIT_TOOL)) throw new Error(`a tool must not be named ${SUBMIT_TOOL}`);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new InvestigationBudgetError(`the investigation ran out of its time budget (${budget.timeMs} ms)`)), budget.timeMs);
  const retries = options.client.maxRetries;

  async function call(body: Anthropic.MessageCreateParamsNonStreaming): Promise<Anthropic.Message> {
    try {
      const message = await options.client.messages.create(body, { signal: deadline.signal });
      addUsage(usage, message.usage);
      return message;
    } catch (err) {
      if (deadline.signal.aborted) throw deadline.signal.reason as Error;
      throw modelError(err, retries);
    }
  }
  const overTokens = (): boolean => usage.inputTokens + usage.outputTokens > budget.maxTokens;

  try {
    let triage: unknown;
    if (options.triageModel) {
      const message = await call({
        model: options.triageModel,
        max_tokens: 512,
        system: `${SYSTEM_PROMPT}\n\nYou are the triage step: read the incident and name at most three likely causes (${CAUSES.join(', ')}) for the investigator.`,
        tools: [{ name: 'record_triage', description: 'Record the likely causes and a one-sentence summary.', input_schema: z.toJSONSchema(TriageNote) as Anthropic.Tool.InputSchema }],
        tool_choice: { type: 'tool', name: 'record_triage' },
        messages: [{ role: 'user', content: firstMessage(seed, undefined) }],
      });
      const block = message.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use' && b.name === 'record_triage');
      const note = TriageNote.safeParse(block?.input);
      if (note.success) triage = note.data;
      else log('the triage model gave no usable note; investigating without it');
    }

    const tools = [...options.tools.map(toolDefinition), submitToolDefinition()] as Anthropic.Tool[];
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: firstMessage(seed, triage) }];
    let invalid = 0;
    for (let turn = 1; turn <= budget.maxTurns; turn++) {
      const last = turn === budget.maxTurns;
      const message = await call({
        model: options.model,
        max_tokens: MAX_OUTPUT_TOKENS,
        system: SYSTEM_PROMPT,
        tools,
        tool_choice: last ? { type: 'tool', name: SUBMIT_TOOL } : { type: 'auto' },
        messages,
      });
      messages.push({ role: 'assistant', content: message.content });
      const uses = message.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
      const results: Anthropic.ToolResultBlockParam[] = [];
      for (const use of uses) {
        if (use.name === SUBMIT_TOOL) {
          try {
            const diagnosis = checkSubmission(use.input, seed);
            const investigation: Investigation = {
              model: options.model,
              ...(options.triageModel ? { triageModel: options.triageModel } : {}),
              turns: turn,
              tools: [...calls.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, c]) => ({ name, ...c })),
              usage,
            };
            // the record is checked like the rest: a model name from the configuration must fit the schema too
            return { diagnosis: validateDiagnosis({ ...diagnosis, investigation }, 'diagnosis'), investigation };
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            invalid++;
            log(`submission ${invalid} refused: ${err.message}`);
            if (invalid > CORRECTIONS) {
              const field = err.where ?? SUBMIT_TOOL;
              throw new SubmissionRefusedError(`${err.message.slice(field.length + 2)} (the model's submission was still invalid after ${CORRECTIONS} corrections)`, field);
            }
            results.push({ type: 'tool_result', tool_use_id: use.id, is_error: true, content: `Refused: ${err.message}. Fix this field and call ${SUBMIT_TOOL} again (${CORRECTIONS - invalid + 1} attempt${CORRECTIONS - invalid + 1 === 1 ? '' : 's'} left).` });
          }
          continue;
        }
        const tool = byName.get(use.name);
        const record = calls.get(use.name) ?? { calls: 0, failed: 0 };
        const outcome = tool ? await runTool(tool, use.input, record.calls, deadline.signal) : { content: `no tool named ${JSON.stringify(use.name.slice(0, 64))}`, isError: true };
        if (tool) {
          record.calls++;
          if (outcome.isError) record.failed++;
          calls.set(use.name, record);
        }
        log(`tool ${use.name}${outcome.isError ? ` failed: ${outcome.content.slice(0, 200)}` : ''}`);
        results.push({ type: 'tool_result', tool_use_id: use.id, content: outcome.content, ...(outcome.isError ? { is_error: true } : {}) });
      }
      if (deadline.signal.aborted) throw deadline.signal.reason as Error;
      if (overTokens()) throw new InvestigationBudgetError(`the investigation used ${usage.inputTokens + usage.outputTokens} tokens, over its budget of ${budget.maxTokens}, without a valid submission`);
      messages.push({ role: 'user', content: results.length ? results : NUDGE });
    }
    throw new InvestigationBudgetError(`the model did not submit a valid diagnosis within ${budget.maxTurns} turns`);
  } finally {
    clearTimeout(timer);
  }
}
