// Suites that need an external program skip, with the printed reason, when it is missing (see prereqs.ts).
import { describe } from 'vitest';
import { missingTool, type ToolId } from './prereqs.ts';

/**
 * `describe` that skips when a tool is missing. The reason goes into the suite's meta (test/summary-reporter.ts
 * prints it under the summary) and is printed once when the file is collected.
 */
export function describeNeeding(ids: ToolId[], name: string, fn: () => void): void {
  const reason = missingTool(...ids);
  if (reason) process.stdout.write(`skipping "${name}": ${reason}\n`);
  describe(name, { skip: reason !== undefined, meta: { skipReason: reason } }, fn);
}

declare module 'vitest' {
  interface TaskMeta {
    /** Why a suite was skipped: the missing tool and how to get it. */
    skipReason?: string;
  }
}


/** Inside one test: skips it, with the reason as its note, when a tool is missing. */
export function skipWithout(ctx: { skip(condition: boolean, note?: string): void }, ...ids: ToolId[]): void {
  const reason = missingTool(...ids);
  ctx.skip(reason !== undefined, reason);
}
