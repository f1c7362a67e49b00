// The vocabulary of arbiter: Diagnosis, Context, Action, Verdict and Decision (DESIGN §2–§4.7).
// Runtime schemas are zod; TypeScript types and JSON Schemas are derived from them, never kept twice.
import { z } from 'zod';

export const API_VERSION = 'arbiter.dev/v1';

/** `^[A-Za-z0-9._:-]{1,128}$`, and never a path-like name such as `..` or `../x`. */
export const IdString = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must match ^[A-Za-z0-9._:-]{1,128}$')
  .refine((s) => !/^\.+$/.test(s) && !s.includes('..'), 'must not look like a path (contains "..")');

/** DNS-1123 label: lowercase alphanumerics and '-', 1..63, starting and ending alphanumeric. */
export const Dns1123Label = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS-1123 label (lowercase letters, digits, "-", at most 63)');

/** Kubernetes object name (DNS-1123 subdomain), used for hypothesis subjects. */
export const K8sName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS-1123 subdomain')
  .refine((s) => !s.includes('..'), 'must not look like a path (contains "..")');

export const Rfc3339 = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
    'must be an RFC 3339 timestamp such as 2026-11-21T02:13:00Z',
  )
  .refine((s) => !Number.isNaN(Date.parse(s)), 'is not a valid date');

export const ActionKinds = ['rollback', 'restart', 'scale', 'shift-traffic', 'set-config', 'patch-image'] as const;
export const ActionKind = z.enum(ActionKinds);
export type ActionKind = z.infer<typeof ActionKind>;

/** Action parameters: a flat-ish JSON object of scalars (validated per kind by `actions/`). */
export const ActionParams = z.record(
  z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'parameter names are identifiers'),
  z.union([z.string().max(1024), z.number().finite(), z.boolean(), z.null()]),
);
export type ActionParams = z.infer<typeof ActionParams>;

export const SuggestedAction = z.object({ kind: ActionKind, params: ActionParams.optional() }).strict();

export const Subject = z
  .object({
    kind: z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,62}$/, 'must be a Kubernetes kind such as Deployment'),
    name: K8sName,
    namespace: Dns1123Label.optional(),
    revision: z.string().max(128).optional(),
    image: z.string().max(512).optional(),
  })
  .strict();

export const Hypothesis = z
  .object({
    cause: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a lowercase cause such as memory-leak'),
    confidence: z.number().min(0).max(1),
    evidence: z.array(z.string().max(2048)).max(100).optional(),
    subject: Subject.optional(),
    suggestedActions: z.array(SuggestedAction).max(20).optional(),
  })
  .strict();
export type Hypothesis = z.infer<typeof Hypothesis>;

export const Target = z
  .object({
    service: Dns1123Label,
    namespace: Dns1123Label.optional(),
    cluster: Dns1123Label.optional(),
    environment: Dns1123Label.optional(),
  })
  .strict();

/**
 * How a `source: llm` diagnosis was produced (diagnose/): the models and the read-only tools the investigation called.
 * Written by arbiter's diagnosis tier, never by the model; bounded so a reviewer can read it in a PR body.
 */
export const Investigation = z
  .object({
    model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/, 'must be a model name such as claude-opus-5-5'),
    triageModel: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/, 'must be a model name such as claude-haiku-5-5').optional(),
    turns: z.number().int().min(0).max(1000),
    tools: z
      .array(z.object({ name: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a tool name'), calls: z.number().int().min(1).max(1000), failed: z.number().int().min(0).max(1000) }).strict())
      .max(32),
    usage: z.object({ inputTokens: z.number().int().min(0), outputTokens: z.number().int().min(0) }).strict(),
  })
  .strict();
export type Investigation = z.infer<typeof Investigation>;

export const Diagnosis = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('Diagnosis'),
    id: IdString,
    incident: IdString,
    observedAt: Rfc3339,
    source: z.string().max(64).optional(),
    target: Target,
    signals: z.record(z.string().max(128), z.number().finite()).optional(),
    hypotheses: z.array(Hypothesis).min(1).max(50),
    investigation: Investigation.optional(),
  })
  .strict();
export type Diagnosis = z.infer<typeof Diagnosis>;

export const Criticality = z.enum(['critical', 'high', 'medium', 'low']);
export type Criticality = z.infer<typeof Criticality>;

export const Context = z
  .object({
    now: Rfc3339,
    service: z
      .object({
        name: Dns1123Label,
        namespace: Dns1123Label.optional(),
        criticality: Criticality,
        owners: z.array(z.string()).default([]),
      })
      .strict(),
    calendar: z
      .object({
        businessHours: z.boolean(),
        maintenanceWindow: z.boolean(),
        changeFreeze: z.boolean(),
        peakEvent: z.string().nullable(),
      })
      .strict(),
    history: z
      .object({
        incidentActions: z.number().int().min(0),
        serviceActionsLastHour: z.number().int().min(0),
        circuitOpen: z.boolean(),
      })
      .strict(),
    killSwitch: z.boolean(),
  })
  .strict();
export type Context = z.infer<typeof Context>;

/** The catalog entry of one service (`.arbiter/catalog.yaml` → services.<name>). */
export const CatalogService = z
  .object({
    namespace: Dns1123Label.optional(),
    criticality: Criticality.default('medium'),
    owners: z.array(z.string()).default([]),
    paths: z.array(z.string()).default([]),
    bounds: z.record(z.string(), z.object({ min: z.number().optional(), max: z.number().optional() }).strict()).default({}),
    internetFacing: z.boolean().optional(),
  })
  .passthrough();
export type CatalogService = z.infer<typeof CatalogService>;
export const Catalog = z.object({ services: z.record(z.string(), CatalogService).default({}) }).passthrough();
export type Catalog = z.infer<typeof Catalog>;

// ── Decision vocabulary ────────────────────────────────────────────────────────────────────────

/** Ordered from permissive to conservative (DESIGN §4.2). */
export const Effects = ['allow', 'notify', 'require_approval', 'escalate', 'deny'] as const;
export type Effect = (typeof Effects)[number];
export const effectRank = (e: Effect): number => Effects.indexOf(e);

/** The mode ladder guardrails walk down (DESIGN §4.6); `shadow` wraps any of them. */
export const Modes = ['auto', 'notify', 'approval', 'escalate'] as const;
export type ActingMode = (typeof Modes)[number];
export type Mode = ActingMode | 'shadow';
export const modeRank = (m: ActingMode): number => Modes.indexOf(m);

export interface ActionTarget {
  service: string;
  namespace: string;
}

/** A candidate action as a policy sees it (`input.action`): the schema CEL's `action` type is generated from. */
export const ActionSchema = z
  .object({ kind: ActionKind, target: z.object({ service: z.string(), namespace: z.string() }).strict(), params: ActionParams })
  .strict();

/** A candidate action as a policy sees it (`input.action`). */
export interface Action {
  kind: ActionKind;
  target: ActionTarget;
  params: ActionParams;
}

/** Where a verdict or proposal came from, for `--explain` and the rationale. */
export interface SourceLocation {
  file: string;
  row?: number;
  col?: number;
  rule?: string;
}

export interface Proposal {
  policy: string;
  kind: ActionKind;
  params: ActionParams;
  reason?: string;
  source?: SourceLocation;
}

export interface Verdict {
  policy: string;
  effect: Effect;
  priority: number;
  weight: number;
  cost: number;
  reason: string;
  source?: SourceLocation;
  /** Set on the `escalate` verdict a rule contributes when judging it failed (DESIGN §4.8): the error message. */
  error?: string;
}

/** The phases a policy runs in (DESIGN §4.2). */
export type PolicyPhase = 'propose' | 'judge';

/** A policy error at decision time (DESIGN §4.8): it made the decision more careful and is listed in `errors[]`. */
export interface PolicyError {
  policy: string;
  /** The rule, e.g. `verdicts[0] (deny-in-business-hours)`, or the Rego rule's name; absent when the whole policy failed. */
  rule?: string;
  phase: PolicyPhase;
  /** The candidate being judged (`kind` or `kind {params}`); absent while proposing. */
  candidate?: string;
  message: string;
  source?: SourceLocation;
}

/**
 * The cost an error verdict carries when the failed rule's cost cannot be known: so large that the candidate cannot
 * beat escalation on cost (an error never makes a candidate cheaper).
 */
export const UNKNOWN_COST = Number.MAX_SAFE_INTEGER;
/** The priority (and weight) an error verdict takes when the failed rule's cannot be known: it decides. */
export const UNKNOWN_PRIORITY = Number.MAX_SAFE_INTEGER;

export interface CandidateReport {
  action: Action;
  proposedBy: string[];
  effect: Effect;
  support: number;
  pSuccess: number;
  expectedCost: number;
  verdicts: Verdict[];
}

export interface GuardrailReport {
  name: string;
  applied: boolean;
  detail: string;
}

export interface Decision {
  apiVersion: typeof API_VERSION;
  kind: 'Decision';
  id: string;
  idempotencyKey: string;
  incident: string;
  diagnosis: string;
  decidedAt: string;
  mode: Mode;
  wouldBe?: ActingMode;
  action: Action | null;
  support: number;
  target: ActionTarget;
  candidates: CandidateReport[];
  resolution: {
    combine: CombineStrategy;
    select: SelectStrategy;
    winner: string;
    overruled: Verdict[];
  };
  guardrails: GuardrailReport[];
  bundle: { revision: string; digest: string };
  rationale: string[];
  /** Policy errors met while deciding (DESIGN §4.8); present only when there were any. */
  errors?: PolicyError[];
}

export type CombineStrategy = 'priority' | 'deny-overrides' | 'majority' | 'first-applicable';
export type SelectStrategy = 'cost' | 'support';

/** The input document policies see (DESIGN §4.1). */
export interface PolicyInput {
  diagnosis: Diagnosis;
  context: Context;
  action?: Action;
}

/**
 * A policy backend evaluates one language's policies of a bundle (CEL, the Rego interpreter, opa-wasm).
 * Both phases are synchronous and pure: same input, same output. Neither throws for a policy's error (DESIGN §4.8):
 * a failed proposal is left out, a failed judgement becomes an `escalate` verdict carrying `error`, and each error
 * is also pushed to `errors` when the caller passes it.
 */
export interface PolicyBackend {
  readonly name: 'cel' | 'rego' | 'wasm';
  /** Policy names this backend owns (the `<name>` in `data.arbiter.policies.<name>`). */
  readonly policies: readonly string[];
  propose(input: PolicyInput, errors?: PolicyError[]): Proposal[];
  judge(input: PolicyInput & { action: Action }, errors?: PolicyError[]): Verdict[];
}

/** The `escalate` verdict a failed judgement contributes (DESIGN §4.8). */
export function errorVerdict(args: { policy: string; priority: number; weight: number; cost: number; message: string; source?: SourceLocation }): Verdict {
  const v: Verdict = {
    policy: args.policy,
    effect: 'escalate',
    priority: args.priority,
    weight: args.weight,
    cost: args.cost,
    reason: `policy error, failing closed: ${args.message}`,
    error: args.message,
  };
  if (args.source) v.source = args.source;
  return v;
}
