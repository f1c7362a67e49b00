// CEL policy tests (`*_test.cel.yaml`): a diagnosis and context in, expected proposals, verdicts and decision out.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { Bundle } from './bundle.ts';
import { canonicalJson } from './canonical.ts';
import { assembleContext } from './context.ts';
import { candidateTarget, decide } from './decide.ts';
import { BundleError } from './errors.ts';
import { fieldPath, validateContextOverride, validateDiagnosis } from './ingest.ts';
import { ActionKind, ActionParams, API_VERSION, Effects, Modes, type Action, type Diagnosis } from './types.ts';

const TestCase = z
  .object({
    name: z.string().min(1).max(256),
    /** A Diagnosis file relative to the test file; `diagnosis` (if also given) is merged over it. */
    diagnosisFile: z.string().optional(),
    diagnosis: z.record(z.string(), z.unknown()).optional(),
    /** Context values merged over the context built from bundle data at the diagnosis `observedAt`. */
    context: z.record(z.string(), z.unknown()).optional(),
    /** The candidate to judge for `expect.verdicts` (its target is the diagnosis target). */
    action: z.object({ kind: ActionKind, params: ActionParams.optional() }).strict().optional(),
    expect: z
      .object({
        /** Kinds proposed by policies (not diagnosis suggestions), as a set. */
        proposals: z.array(ActionKind).optional(),
        /** Effects each named policy returns for `action`; `[]` means no verdict. */
        verdicts: z.record(z.string(), z.array(z.enum(Effects))).optional(),
        decision: z
          .object({
            mode: z.enum([...Modes, 'shadow']).optional(),
            wouldBe: z.enum(Modes).optional(),
            /** The action kind, or null for none. */
            action: ActionKind.nullable().optional(),
            params: ActionParams.optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
  })
  .strict();
type TestCase = z.infer<typeof TestCase>;

export const CelPolicyTestDocument = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('CelPolicyTest'),
    metadata: z.object({ name: z.string().optional(), description: z.string().optional() }).passthrough().optional(),
    tests: z.array(TestCase).min(1),
  })
  .strict();

/** One test's outcome; the Rego tester reports in the same shape so both run in one `arbiter test`. */
export interface PolicyTestResult {
  file: string;
  name: string;
  passed: boolean;
  durationMs: number;
  /** Lines of `- expected` / `+ actual` when the test failed. */
  diff?: string[];
  /** Extra lines shown with `-v`. */
  detail?: string[];
}

export interface PolicyTestOptions {
  /** Only tests whose `file: name` matches. */
  run?: RegExp;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function mergeDeep(base: unknown, patch: unknown): unknown {
  if (!isRecord(base) || !isRecord(patch)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = mergeDeep(base[k], v);
  return out;
}

function loadTestDiagnosis(t: TestCase, baseDir: string, where: string): Diagnosis {
  let value: unknown = {};
  if (t.diagnosisFile) {
    const file = resolve(baseDir, t.diagnosisFile);
    if (!existsSync(file)) throw new BundleError(`diagnosisFile ${t.diagnosisFile} does not exist`, where);
    value = YAML.parse(readFileSync(file, 'utf8'), { maxAliasCount: 0 });
  }
  if (t.diagnosis) value = mergeDeep(value, t.diagnosis);
  return validateDiagnosis(value, `${where}: diagnosis`);
}

/** Runs every CEL test of a bundle (bundles loaded from a directory; `diagnosisFile` is relative to the test file). */
export function runCelTests(bundle: Bundle, options: PolicyTestOptions = {}): PolicyTestResult[] {
  const results: PolicyTestResult[] = [];
  for (const testFile of bundle.tests) {
    let doc;
    try {
      doc = CelPolicyTestDocument.safeParse(YAML.parse(testFile.source, { maxAliasCount: 0 }));
    } catch (err) {
      throw new BundleError(`not valid YAML: ${(err as Error).message.split('\n')[0]}`, testFile.file);
    }
    if (!doc.success) {
      const issue = doc.error.issues[0]!;
      throw new BundleError(issue.message, `${testFile.file}: ${fieldPath(issue.path)}`);
    }
    const baseDir = join(bundle.dir, dirname(testFile.file));
    for (const t of doc.data.tests) {
      const id = `${testFile.file}: ${t.name}`;
      if (options.run && !options.run.test(id)) continue;
      const started = performance.now();
      const { diff, detail } = runOne(bundle, t, baseDir, id);
      const result: PolicyTestResult = { file: testFile.file, name: t.name, passed: diff.length === 0, durationMs: performance.now() - started, detail };
      if (diff.length > 0) result.diff = diff;
      results.push(result);
    }
  }
  return results;
}

function runOne(bundle: Bundle, t: TestCase, baseDir: string, id: string): { diff: string[]; detail: string[] } {
  const diagnosis = loadTestDiagnosis(t, baseDir, id);
  const override = validateContextOverride(t.context ?? {}, `${id}: context`);
  const { context, service } = assembleContext({ diagnosis, now: diagnosis.observedAt, bundleData: bundle.data, override });
  const diff: string[] = [];
  const detail: string[] = [];
  const compare = (what: string, expected: unknown, actual: unknown): void => {
    const e = canonicalJson(expected);
    const a = canonicalJson(actual);
    if (e !== a) diff.push(`${what}:`, `  - expected ${e}`, `  + actual   ${a}`);
  };

  if (t.expect.proposals) {
    const proposed = new Set<string>();
    for (const b of bundle.backends) for (const p of b.propose({ diagnosis, context })) proposed.add(p.kind);
    compare('proposals', [...t.expect.proposals].sort(), [...proposed].sort());
    detail.push(`proposals: ${[...proposed].sort().join(', ') || '(none)'}`);
  }
  if (t.expect.verdicts) {
    if (!t.action) {
      diff.push('expect.verdicts needs `action` (the candidate to judge)');
    } else {
      const action: Action = { kind: t.action.kind, target: candidateTarget(diagnosis, context, service), params: t.action.params ?? {} };
      const verdicts = bundle.backends.flatMap((b) => b.judge({ diagnosis, context, action }));
      for (const [policy, effects] of Object.entries(t.expect.verdicts).sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (!bundle.backends.some((b) => b.policies.includes(policy))) {
          diff.push(`verdicts.${policy}: no policy of that name in the bundle`);
          continue;
        }
        compare(`verdicts.${policy}`, [...effects].sort(), verdicts.filter((v) => v.policy === policy).map((v) => v.effect).sort());
      }
      detail.push(...verdicts.map((v) => `verdict ${v.policy}: ${v.effect} (priority ${v.priority}) — ${v.reason}`));
    }
  }
  if (t.expect.decision) {
    const d = decide({ diagnosis, context, bundle, service });
    const e = t.expect.decision;
    if (e.mode !== undefined) compare('decision.mode', e.mode, d.mode);
    if (e.wouldBe !== undefined) compare('decision.wouldBe', e.wouldBe, d.wouldBe ?? null);
    if (e.action !== undefined) compare('decision.action', e.action, d.action ? d.action.kind : null);
    if (e.params !== undefined) compare('decision.action.params', e.params, d.action ? d.action.params : null);
    detail.push(...d.rationale.map((r) => `rationale: ${r}`));
  }
  return { diff, detail };
}
