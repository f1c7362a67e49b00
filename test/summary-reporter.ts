// Prints one plain closing line, `tests: N passed, M failed, K skipped`, after vitest's own summary, so CI logs end
// with a count any reader (or log scraper) understands. Above it, one line per reason tests were skipped for a
// missing program (test/support/needs.ts), so a skip is never silent.
import type { Reporter, TestCase, TestModule } from 'vitest/node';

/** The reason a skipped test's nearest suite recorded (test/support/needs.ts), or the test's own `ctx.skip` note. */
function skipReason(test: TestCase): string | undefined {
  const result = test.result();
  if (result.state === 'skipped' && result.note) return result.note;
  for (let p: TestCase['parent'] | undefined = test.parent; p && p.type === 'suite'; p = p.parent) {
    const reason = (p.meta() as { skipReason?: string }).skipReason;
    if (reason) return reason;
  }
  return undefined;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const reasons = new Map<string, { tests: number; files: Set<string> }>();
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else {
          skipped++;
          const reason = skipReason(test);
          if (reason) {
            const entry = reasons.get(reason) ?? { tests: 0, files: new Set<string>() };
            entry.tests++;
            entry.files.add(mod.relativeModuleId);
            reasons.set(reason, entry);
          }
        }
      }
      // a file that failed to load has no tests but must count as a failure
      if (mod.state() === 'failed' && [...mod.children.allTests()].every((t) => t.result().state !== 'failed')) failed++;
    }
    failed += unhandledErrors.length;
    for (const [reason, { tests, files }] of reasons) process.stdout.write(`\nskipped ${tests} test${tests === 1 ? '' : 's'} in ${[...files].join(', ')}: ${reason}`);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
