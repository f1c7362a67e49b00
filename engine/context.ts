// Context assembly (DESIGN §3): catalog + calendar (evaluated at `now` in its time zone) + history + kill switch,
// with explicit values winning field by field.
import { z } from 'zod';
import { parseDocument, schemaError, type ContextOverride } from './ingest.ts';
import { Catalog, CatalogService, Context, Criticality, Rfc3339, type Diagnosis } from './types.ts';

export type { Catalog, CatalogService } from './types.ts';

/** Criticality of a service the catalog does not list, unless the catalog's `defaults.criticality` says otherwise. */
export const UNKNOWN_SERVICE_CRITICALITY: Criticality = 'medium';

const Day = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const ClockTime = z.string().regex(/^([01]\d|2[0-4]):[0-5]\d$/, 'must be a time such as "09:00"');
const Window = z.object({ days: z.array(Day).min(1), from: ClockTime, to: ClockTime }).strict();
const Period = z.object({ from: Rfc3339, to: Rfc3339, reason: z.string().optional() }).strict();
/** `6h`, `30m`, `2d`: how long before a peak the calendar already reports it (for predictive scaling). */
const Lead = z.string().regex(/^\d+(m|h|d)$/, 'must be a duration such as 6h');

export const CalendarSpec = z
  .object({
    timezone: z.string().default('UTC'),
    businessHours: Window.optional(),
    maintenanceWindows: z.array(Window).default([]),
    changeFreezes: z.array(Period).default([]),
    peakEvents: z.array(z.object({ name: z.string().min(1).max(128), from: Rfc3339, to: Rfc3339, leadTime: Lead.optional() }).strict()).default([]),
  })
  .strict()
  .superRefine((spec, ctx) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: spec.timezone });
    } catch {
      ctx.addIssue({ code: 'custom', path: ['timezone'], message: `unknown IANA time zone ${JSON.stringify(spec.timezone)}` });
    }
  });
export type CalendarSpec = z.infer<typeof CalendarSpec>;

export const CatalogDocument = Catalog.extend({ defaults: z.object({ criticality: Criticality.optional() }).passthrough().optional() });

export function parseCatalog(text: string, file: string): Catalog {
  return validateCatalog(parseDocument(text, file), file);
}

export function validateCatalog(value: unknown, file: string): Catalog {
  const r = CatalogDocument.safeParse(value ?? {}, { reportInput: true });
  if (!r.success) throw schemaError(r.error, file);
  return r.data as Catalog;
}

export function parseCalendar(text: string, file: string): CalendarSpec {
  return validateCalendar(parseDocument(text, file), file);
}

export function validateCalendar(value: unknown, file: string): CalendarSpec {
  const r = CalendarSpec.safeParse(value ?? {}, { reportInput: true });
  if (!r.success) throw schemaError(r.error, file);
  return r.data;
}

/** The catalog entry of a service; `known: false` when the catalog does not list it (defaults apply). */
export function resolveCatalogService(catalog: Catalog | undefined, service: string): { entry: CatalogService; known: boolean } {
  const listed = catalog?.services?.[service];
  if (listed) return { entry: listed, known: true };
  const defaults = (catalog as { defaults?: { criticality?: Criticality } } | undefined)?.defaults;
  return { entry: CatalogService.parse({ criticality: defaults?.criticality ?? UNKNOWN_SERVICE_CRITICALITY }), known: false };
}

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const formatters = new Map<string, Intl.DateTimeFormat>();
// formatToParts is the costliest step of building a context; its answer depends only on the zone and the second
// (UTC offsets are whole seconds, even the historic ones such as -0:44:30), so it is kept per zone and second
const localMinutes = new Map<string, { day: (typeof WEEKDAYS)[number]; minutes: number }>();
const LOCAL_MINUTES_KEPT = 4096;

/** Weekday and minutes since midnight of an instant in an IANA time zone. */
export function localTime(instant: Date, timeZone: string): { day: (typeof WEEKDAYS)[number]; minutes: number } {
  const key = `${Math.floor(instant.getTime() / 1000)} ${timeZone}`;
  const known = localMinutes.get(key);
  if (known) return { ...known };
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(instant).map((p) => [p.type, p.value]));
  const day = WEEKDAYS.find((d) => d === String(parts.weekday).slice(0, 3).toLowerCase()) ?? 'sun';
  const local = { day, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
  if (localMinutes.size >= LOCAL_MINUTES_KEPT) localMinutes.delete(localMinutes.keys().next().value!);
  localMinutes.set(key, local);
  return { ...local };
}

const toMinutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** A weekly window; `from` > `to` runs past midnight into the next day. */
function inWindow(w: z.infer<typeof Window>, local: { day: string; minutes: number }): boolean {
  const from = toMinutes(w.from);
  const to = toMinutes(w.to);
  const days = w.days as string[];
  if (from <= to) return days.includes(local.day) && local.minutes >= from && local.minutes < to;
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(local.day as (typeof WEEKDAYS)[number]) + 6) % 7]!;
  return (days.includes(local.day) && local.minutes >= from) || (days.includes(yesterday) && local.minutes < to);
}

const leadMs = (lead: string | undefined): number => {
  if (!lead) return 0;
  const n = Number(lead.slice(0, -1));
  return n * { m: 60_000, h: 3_600_000, d: 86_400_000 }[lead.slice(-1) as 'm' | 'h' | 'd'];
};

/** The calendar at `now`: business hours and maintenance windows in the calendar's time zone; freezes and peaks are instants. */
export function evaluateCalendar(spec: CalendarSpec | undefined, now: string): Context['calendar'] {
  if (!spec) return { businessHours: false, maintenanceWindow: false, changeFreeze: false, peakEvent: null };
  const instant = new Date(now);
  const t = instant.getTime();
  const local = localTime(instant, spec.timezone);
  const within = (from: string, to: string, lead = 0): boolean => t >= Date.parse(from) - lead && t < Date.parse(to);
  const peak = spec.peakEvents.find((p) => within(p.from, p.to, leadMs(p.leadTime)));
  return {
    businessHours: spec.businessHours ? inWindow(spec.businessHours, local) : false,
    maintenanceWindow: spec.maintenanceWindows.some((w) => inWindow(w, local)),
    changeFreeze: spec.changeFreezes.some((f) => within(f.from, f.to)),
    peakEvent: peak ? peak.name : null,
  };
}

export interface BuildContextArgs {
  diagnosis: Diagnosis;
  now: string;
  catalog?: Catalog;
  calendar?: CalendarSpec;
  history?: Context['history'];
  killSwitch?: boolean;
  bundleData?: unknown;
  override?: ContextOverride;
}

function bundleArbiterData(bundleData: unknown): Record<string, unknown> {
  const arbiter = (bundleData as { arbiter?: unknown } | undefined)?.arbiter;
  return arbiter && typeof arbiter === 'object' ? (arbiter as Record<string, unknown>) : {};
}

/** Catalog and calendar from the repository when given, else from bundle data `data.arbiter.{catalog,calendar}`. */
export function catalogAndCalendar(args: Pick<BuildContextArgs, 'catalog' | 'calendar' | 'bundleData'>): { catalog?: Catalog; calendar?: CalendarSpec } {
  const fromBundle = bundleArbiterData(args.bundleData);
  const out: { catalog?: Catalog; calendar?: CalendarSpec } = {};
  const catalog = args.catalog ?? (fromBundle.catalog !== undefined ? validateCatalog(fromBundle.catalog, 'bundle data arbiter.catalog') : undefined);
  const calendar = args.calendar ?? (fromBundle.calendar !== undefined ? validateCalendar(fromBundle.calendar, 'bundle data arbiter.calendar') : undefined);
  if (catalog) out.catalog = catalog;
  if (calendar) out.calendar = calendar;
  return out;
}

/** Assembles the Context a decision is made in. Pure: `now` is an argument. Throws InputError on an invalid result. */
export function buildContext(args: BuildContextArgs): Context {
  const now = args.override?.now ?? args.now;
  const { catalog, calendar } = catalogAndCalendar(args);
  const name = args.diagnosis.target.service;
  const { entry } = resolveCatalogService(catalog, name);
  const namespace = args.diagnosis.target.namespace ?? entry.namespace;
  const assembled = {
    now,
    service: { name, ...(namespace ? { namespace } : {}), criticality: entry.criticality, owners: [...entry.owners] },
    calendar: evaluateCalendar(calendar, now),
    history: args.history ?? { incidentActions: 0, serviceActionsLastHour: 0, circuitOpen: false },
    killSwitch: args.killSwitch ?? false,
  };
  const o = args.override ?? {};
  const merged = {
    now,
    service: { ...assembled.service, ...definedOnly(o.service) },
    calendar: { ...assembled.calendar, ...definedOnly(o.calendar) },
    history: { ...assembled.history, ...definedOnly(o.history) },
    killSwitch: o.killSwitch ?? assembled.killSwitch,
  };
  const r = Context.safeParse(merged, { reportInput: true });
  if (!r.success) throw schemaError(r.error, 'context');
  return r.data;
}

function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}


/**
 * The Context a decision is made in and the target service's catalog entry, from one set of sources (DESIGN §3).
 * Every front end goes through this (app/context.ts reads the sources from a repository; policy tests and replay
 * from bundle data): catalog and calendar from the repository when given, else from bundle data.
 */
export function assembleContext(args: BuildContextArgs): { context: Context; service: CatalogService; known: boolean } {
  const sources = catalogAndCalendar(args);
  const context = buildContext({ ...args, ...sources });
  const { entry, known } = resolveCatalogService(sources.catalog, args.diagnosis.target.service);
  return { context, service: entry, known };
}
