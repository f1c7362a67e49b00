// arbiter's decision core as a library: ingest → context → decide, with the bundle and CEL adapter.
export * from './types.ts';
export * from './errors.ts';
export { canonicalJson, sha256Hex, idempotencyKey, decisionId } from './canonical.ts';
export { parseDiagnosis, validateDiagnosis, parseContextOverride, validateContextOverride, parseDocument, MAX_DOCUMENT_BYTES, type ContextOverride, type DeepPartial } from './ingest.ts';
export { loadBundle, assembleBundle, type Bundle, type BundleFile, type LoadBundleOptions } from './bundle.ts';
export { assembleContext, buildContext, parseCatalog, parseCalendar, evaluateCalendar, resolveCatalogService, catalogAndCalendar, CalendarSpec, UNKNOWN_SERVICE_CRITICALITY, type BuildContextArgs } from './context.ts';
export { decide, combineVerdicts, selectAction, gateMode, gateThresholds, applyGuardrails, pSuccess, support, expectedCost, escalationCost, type DecideArgs, type DecisionBundle } from './decide.ts';
export { BundleSettings, DEFAULT_SETTINGS, CostModel } from './settings.ts';
export { defaultCelEngine, createMarcbachmannEngine, type CelEngine, type CelProgram } from './cel/index.ts';
export { createBufbuildEngine } from './cel/bufbuild.ts';
