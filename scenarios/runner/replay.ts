// Shadow replay: past diagnoses with what humans actually did (ground truth) go through a bundle with pure `decide`
// (no Git). Reports agreement per mode and per action, the false-autonomy rate, and how both move with the gates.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { contextFromRepository, sourcesFromDirectory } from '../../app/context.ts';
import type { Bundle } from '../../engine/bundle.ts';
import { assembleContext, parseCalendar, parseCatalog, type CalendarSpec } from '../../engine/context.ts';
import { decide } from '../../engine/decide.ts';
import { InputError } from '../../engine/errors.ts';
import { validateContextOverride, validateDiagnosis } from '../../engine/ingest.ts';
import { ActionKind, Modes, type ActingMode, type Catalog, type Diagnosis } from '../../engine/types.ts';
import type { ContextOverride } from '../../engine/ingest.ts';
import { fieldPath } from './schema.ts';

/** What humans did: the mode they judged right in hindsight and the action they took (`null`: no change). */
const Truth = z
  .object({
    mode: z.enum(Modes),
    action: ActionKind.nullable(),
    note: z.string().optional(),
  })
  .strict();

const ReplayCaseSchema = z
  .object({
    diagnosis: z.record(z.string(), z.unknown()),
    context: z.record(z.string(), z.unknown()).optional(),
    truth: Truth,
  })
  .strict();

/** `replay.yaml` in the directory: where the catalog/calendar come from and the default bundle. */
const ReplayConfig = z.object({ repo: z.string().optional(), bundle: z.string().optional() }).strict();

export interface ReplayCase {
  file: string;
  diagnosis: Diagnosis;
  override?: ContextOverride;
  truth: z.infer<typeof Truth>;
}

export interface ReplaySet {
  dir: string;
  cases: ReplayCase[];
  catalog?: Catalog;
  calendar?: CalendarSpec;
  /** Bundle directory named by `replay.yaml`, resolved. */
  bundleDir?: string;
}

function readYaml(file: string): unknown {
  try {
    return parseYaml(readFileSync(file, 'utf8'), { maxAliasCount: 100 });
  } catch (err) {
    throw new InputError(`not readable YAML: ${(err as Error).message.split('\n')[0]}`, file);
  }
}

/** Reads a replay directory: every `*.yaml` except `replay.yaml` is one past incident. */
export function loadReplaySet(dir: string): ReplaySet {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError('not a directory of replay cases', dir);
  const set: ReplaySet = { dir, cases: [] };
  const configFile = join(dir, 'replay.yaml');
  if (existsSync(configFile)) {
    const parsed = ReplayConfig.safeParse(readYaml(configFile) ?? {});
    if (!parsed.success) throw new InputError(parsed.error.issues[0]!.message, `${configFile}: ${fieldPath(parsed.error.issues[0]!.path)}`);
    if (parsed.data.repo) {
      // catalog and calendar only: a replay asks what the policies decide, not whether arbiter was paused then
      const { catalog, calendar } = sourcesFromDirectory(resolve(dir, parsed.data.repo), { parseCatalog, parseCalendar });
      if (catalog) set.catalog = catalog;
      if (calendar) set.calendar = calendar;
    }
    if (parsed.data.bundle) set.bundleDir = resolve(dir, parsed.data.bundle);
  }
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'replay.yaml').sort();
  for (const name of files) {
    const file = join(dir, name);
    const parsed = ReplayCaseSchema.safeParse(readYaml(file));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InputError(issue.message, `${file}: ${fieldPath(issue.path) || '(document)'}`);
    }
    const diagnosis = validateDiagnosis(parsed.data.diagnosis, file, 'diagnosis');
    const override = parsed.data.context ? validateContextOverride(parsed.data.context, `${file}: context`) : undefined;
    set.cases.push({ file, diagnosis, override, truth: parsed.data.truth });
  }
  if (set.cases.length === 0) throw new InputError('no replay cases (*.yaml with diagnosis and truth)', dir);
  return set;
}

export interface Gates {
  auto: number;
  notify: number;
}

export interface CaseOutcome {
  file: string;
  incident: string;
  truth: { mode: ActingMode; action: string };
  arbiter: { mode: ActingMode; action: string; support: number };
  modeAgrees: boolean;
  actionAgrees: boolean;
  falseAutonomy: boolean;
}

const AUTONOMOUS: ReadonlySet<ActingMode> = new Set(['auto', 'notify']);
const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;
const rate = (n: number, of: number): number | null => (of === 0 ? null : round4(n / of));

/** The bundle with both gates (and every per-action gate) moved so the global ones are `gates`. */
export function withGates(bundle: Bundle, gates: Gates): Bundle {
  const base = bundle.settings.gates;
  const shift = (value: number | undefined, delta: number) => (value === undefined ? undefined : Math.min(1, Math.max(0, round4(value + delta))));
  const perAction = Object.fromEntries(
    Object.entries(base.perAction).map(([kind, g]) => [kind, { auto: shift(g?.auto, gates.auto - base.auto), notify: shift(g?.notify, gates.notify - base.notify) }]),
  );
  return { ...bundle, settings: { ...bundle.settings, mode: 'live', gates: { auto: gates.auto, notify: gates.notify, perAction } } };
}

/** Decides one past incident in shadow (pure `decide`) and compares it with what humans did. */
export function replayCase(c: ReplayCase, bundle: Bundle, set: Pick<ReplaySet, 'catalog' | 'calendar'>): CaseOutcome {
  const sources = { killSwitch: false, ...(set.catalog ? { catalog: set.catalog } : {}), ...(set.calendar ? { calendar: set.calendar } : {}) };
  const { context, service } = contextFromRepository(assembleContext, { diagnosis: c.diagnosis, now: c.diagnosis.observedAt, sources, bundleData: bundle.data, ...(c.override ? { override: c.override } : {}) });
  const decision = decide({ diagnosis: c.diagnosis, context, bundle, service });
  const mode = (decision.mode === 'shadow' ? decision.wouldBe! : decision.mode) as ActingMode;
  const action = decision.action?.kind ?? 'none';
  const truthAction = c.truth.action ?? 'none';
  const modeAgrees = mode === c.truth.mode;
  const actionAgrees = action === truthAction;
  // Autonomy was right only where humans would have let it run unattended and did the same thing.
  const falseAutonomy = AUTONOMOUS.has(mode) && !(AUTONOMOUS.has(c.truth.mode) && actionAgrees);
  return {
    file: basename(c.file),
    incident: c.diagnosis.incident,
    truth: { mode: c.truth.mode, action: truthAction },
    arbiter: { mode, action, support: decision.support },
    modeAgrees,
    actionAgrees,
    falseAutonomy,
  };
}

export interface Agreement {
  cases: number;
  agreed: number;
  rate: number | null;
}

export interface ReplayMetrics {
  cases: number;
  gates: Gates;
  mode: { agreement: Agreement; byTruth: Record<string, Agreement>; confusion: Record<string, Record<string, number>> };
  action: { agreement: Agreement; byTruth: Record<string, Agreement> };
  autonomy: { autonomous: number; rate: number | null };
  falseAutonomy: { count: number; autonomous: number; rate: number | null; humanNonAutonomous: number };
}

function agreement(outcomes: CaseOutcome[], pick: (o: CaseOutcome) => boolean): Agreement {
  const agreed = outcomes.filter(pick).length;
  return { cases: outcomes.length, agreed, rate: rate(agreed, outcomes.length) };
}

function groupBy(outcomes: CaseOutcome[], key: (o: CaseOutcome) => string): Map<string, CaseOutcome[]> {
  const groups = new Map<string, CaseOutcome[]>();
  for (const o of outcomes) groups.set(key(o), [...(groups.get(key(o)) ?? []), o]);
  return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function summarizeOutcomes(outcomes: CaseOutcome[], gates: Gates): ReplayMetrics {
  const byMode = groupBy(outcomes, (o) => o.truth.mode);
  const byAction = groupBy(outcomes, (o) => o.truth.action);
  const confusion: Record<string, Record<string, number>> = {};
  for (const o of outcomes) {
    const row = (confusion[o.truth.mode] ??= {});
    row[o.arbiter.mode] = (row[o.arbiter.mode] ?? 0) + 1;
  }
  const autonomous = outcomes.filter((o) => AUTONOMOUS.has(o.arbiter.mode)).length;
  const falseCount = outcomes.filter((o) => o.falseAutonomy).length;
  return {
    cases: outcomes.length,
    gates,
    mode: {
      agreement: agreement(outcomes, (o) => o.modeAgrees),
      byTruth: Object.fromEntries([...byMode].map(([k, v]) => [k, agreement(v, (o) => o.modeAgrees)])),
      confusion,
    },
    action: {
      agreement: agreement(outcomes, (o) => o.actionAgrees),
      byTruth: Object.fromEntries([...byAction].map(([k, v]) => [k, agreement(v, (o) => o.actionAgrees)])),
    },
    autonomy: { autonomous, rate: rate(autonomous, outcomes.length) },
    falseAutonomy: {
      count: falseCount,
      autonomous,
      rate: rate(falseCount, autonomous),
      humanNonAutonomous: outcomes.filter((o) => !AUTONOMOUS.has(o.truth.mode)).length,
    },
  };
}

export interface SweepRow {
  auto: number;
  notify: number;
  autonomyRate: number | null;
  modeAgreement: number | null;
  actionAgreement: number | null;
  falseAutonomyRate: number | null;
  falseAutonomous: number;
}

/** Both gates moved together in steps of 0.05 (keeping their gap), from the lowest to the highest sensible value. */
export function sweepGates(center: Gates, step = 0.05): Gates[] {
  const gap = round4(center.auto - center.notify);
  const rows: Gates[] = [];
  for (let i = -20; i <= 20; i++) {
    const auto = round4(center.auto + i * step);
    const notify = round4(auto - gap);
    if (auto > 1 || auto < 0.5 || notify < 0) continue;
    rows.push({ auto, notify });
  }
  return rows;
}

export interface ReplayReport {
  bundle: { revision: string; digest: string };
  metrics: ReplayMetrics;
  sweep: SweepRow[];
  outcomes: CaseOutcome[];
}

export function replay(set: ReplaySet, bundle: Bundle, gates?: Partial<Gates>): ReplayReport {
  const center: Gates = { auto: gates?.auto ?? bundle.settings.gates.auto, notify: gates?.notify ?? bundle.settings.gates.notify };
  if (center.notify > center.auto) throw new InputError(`notify gate ${center.notify} is above the auto gate ${center.auto}`, '--gates');
  const run = (g: Gates) => set.cases.map((c) => replayCase(c, withGates(bundle, g), set));
  const outcomes = run(center);
  const sweep = sweepGates(center).map((g) => {
    const m = summarizeOutcomes(run(g), g);
    return {
      auto: g.auto,
      notify: g.notify,
      autonomyRate: m.autonomy.rate,
      modeAgreement: m.mode.agreement.rate,
      actionAgreement: m.action.agreement.rate,
      falseAutonomyRate: m.falseAutonomy.rate,
      falseAutonomous: m.falseAutonomy.count,
    };
  });
  return { bundle: { revision: bundle.revision, digest: bundle.digest }, metrics: summarizeOutcomes(outcomes, center), sweep, outcomes };
}

/** `auto=0.9,notify=0.7` → gates; an InputError names the flag on anything else. */
export function parseGates(text: string): Partial<Gates> {
  const gates: Partial<Gates> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(auto|notify)=([0-9]*\.?[0-9]+)$/.exec(part);
    const value = m ? Number(m[2]) : NaN;
    if (!m || !(value >= 0 && value <= 1)) throw new InputError(`"${part}" is not auto=<0..1> or notify=<0..1>`, '--gates');
    gates[m[1] as keyof Gates] = value;
  }
  return gates;
}

const pct = (x: number | null): string => (x === null ? '   –  ' : `${(x * 100).toFixed(1).padStart(5)}%`);

/** The human report: agreement tables, false autonomy, the sweep, and the disagreements worth reading. */
export function formatReplay(report: ReplayReport, dir: string): string {
  const m = report.metrics;
  const lines = [`replay of ${m.cases} past incidents from ${dir} against bundle ${report.bundle.revision}`, `gates: auto ${m.gates.auto}, notify ${m.gates.notify}`, ''];
  lines.push(`mode agreement    ${pct(m.mode.agreement.rate)}  (${m.mode.agreement.agreed}/${m.mode.agreement.cases})`);
  for (const [mode, a] of Object.entries(m.mode.byTruth)) lines.push(`  humans ${mode.padEnd(9)} ${pct(a.rate)}  (${a.agreed}/${a.cases})`);
  lines.push(`action agreement  ${pct(m.action.agreement.rate)}  (${m.action.agreement.agreed}/${m.action.agreement.cases})`);
  for (const [action, a] of Object.entries(m.action.byTruth)) lines.push(`  humans ${action.padEnd(13)} ${pct(a.rate)}  (${a.agreed}/${a.cases})`);
  lines.push(`autonomous        ${pct(m.autonomy.rate)}  (${m.autonomy.autonomous}/${m.cases} decisions auto or notify)`);
  lines.push(`false autonomy    ${pct(m.falseAutonomy.rate)}  (${m.falseAutonomy.count} of ${m.falseAutonomy.autonomous} autonomous decisions where humans did not act unattended with that action)`);
  lines.push('', 'humans → arbiter (mode confusion):');
  const modes = [...Modes];
  lines.push(`  ${''.padEnd(10)}${modes.map((x) => x.padStart(10)).join('')}`);
  for (const row of modes) if (m.mode.confusion[row]) lines.push(`  ${row.padEnd(10)}${modes.map((c) => String(m.mode.confusion[row]![c] ?? 0).padStart(10)).join('')}`);
  lines.push('', 'gate sweep (both gates moved together):', '   auto  notify  autonomous  mode-agree  action-agree  false-autonomy');
  for (const r of report.sweep) {
    const mark = r.auto === m.gates.auto && r.notify === m.gates.notify ? ' ◀ current' : '';
    lines.push(`   ${r.auto.toFixed(2)}   ${r.notify.toFixed(2)}     ${pct(r.autonomyRate)}      ${pct(r.modeAgreement)}        ${pct(r.actionAgreement)}          ${pct(r.falseAutonomyRate)}${mark}`);
  }
  const disagreements = report.outcomes.filter((o) => !o.modeAgrees || !o.actionAgrees);
  if (disagreements.length) {
    lines.push('', 'disagreements:');
    for (const o of disagreements) {
      lines.push(`  ${o.file}: humans ${o.truth.mode}/${o.truth.action}, arbiter ${o.arbiter.mode}/${o.arbiter.action} (support ${o.arbiter.support.toFixed(2)})${o.falseAutonomy ? '  FALSE AUTONOMY' : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
