// The decision core as the use cases see it: engine/ decides, actions/ plans. Injected so tests (and other front
// ends) can substitute a stand-in that pins Git behaviour rather than policy behaviour.
import type { ActionDefinition, Plan, PlanInput } from '../actions/types.ts';
import type { CalendarSpec } from '../engine/context.ts';
import type { DecisionBundle } from '../engine/decide.ts';
import { InternalError } from '../engine/errors.ts';
import type { ContextOverride } from '../engine/ingest.ts';
import type { Catalog, CatalogService, Context, Decision, Diagnosis } from '../engine/types.ts';
import type { ContextAssembler, SourceParsers } from './context.ts';

/** What a loaded bundle must offer the use cases (engine/bundle.ts `Bundle` has all of it). */
export interface BundleLike {
  dir?: string;
  revision: string;
  digest: string;
  settings: { guardrails: { circuitCooldownMinutes: number } } & Record<string, unknown>;
  data: Record<string, unknown>;
}

export interface DecisionCore {
  parseDiagnosis(text: string, source: string): Diagnosis;
  parseContextOverride(text: string, source: string): ContextOverride;
  loadBundle(dir: string): Promise<BundleLike>;
  parseCatalog(text: string, file: string): Catalog;
  parseCalendar(text: string, file: string): CalendarSpec;
  /** parseCatalog/parseCalendar in two steps, so app/context.ts can keep parsed documents on disk by blob id. */
  documents?: SourceParsers['documents'];
  assembleContext: ContextAssembler;
  /** Synchronous in-process, or a promise when decisions run elsewhere (serve's worker pool, engine/pool.ts). */
  decide(input: { diagnosis: Diagnosis; context: Context; bundle: BundleLike; service?: CatalogService }): Decision | Promise<Decision>;
  planAction(input: PlanInput): Promise<Plan>;
  getAction(kind: string): ActionDefinition;
}

/** A bundle the engine can decide with (a loaded engine/bundle.ts Bundle, not a stand-in). */
function isDecisionBundle(bundle: BundleLike): bundle is BundleLike & DecisionBundle {
  return 'backends' in bundle && Array.isArray(bundle.backends) && 'cost' in bundle;
}

/** The real decision core, loaded on first use so commands that do not decide do not pay for it. */
export async function loadDecisionCore(): Promise<DecisionCore> {
  const [ingest, bundle, context, decide, actions] = await Promise.all([
    import('../engine/ingest.ts'),
    import('../engine/bundle.ts'),
    import('../engine/context.ts'),
    import('../engine/decide.ts'),
    import('../actions/index.ts'),
  ]);
  return {
    parseDiagnosis: ingest.parseDiagnosis,
    parseContextOverride: ingest.parseContextOverride,
    loadBundle: bundle.loadBundle,
    parseCatalog: context.parseCatalog,
    parseCalendar: context.parseCalendar,
    documents: { parseDocument: ingest.parseDocument, validateCatalog: context.validateCatalog, validateCalendar: context.validateCalendar },
    assembleContext: context.assembleContext,
    decide: ({ bundle: b, ...rest }) => {
      if (!isDecisionBundle(b)) throw new InternalError(`bundle ${b.revision} was not loaded by the engine: it has no policy backends`);
      return decide.decide({ ...rest, bundle: b });
    },
    planAction: actions.planAction,
    getAction: actions.getAction,
  };
}
