import { describe, expect, it } from 'vitest';
import { buildContext, evaluateCalendar, parseCalendar, parseCatalog, UNKNOWN_SERVICE_CRITICALITY } from '../../engine/context.ts';
import { diagnosis } from './fixtures.ts';

const CALENDAR = parseCalendar(
  `timezone: Europe/Berlin
businessHours: { days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00" }
maintenanceWindows: [ { days: [sun], from: "02:00", to: "04:00" }, { days: [fri], from: "22:00", to: "01:00" } ]
changeFreezes: [ { from: 2026-12-20T00:00:00Z, to: 2027-01-02T00:00:00Z, reason: year-end } ]
peakEvents: [ { name: black-friday, from: 2026-11-27T00:00:00Z, to: 2026-11-28T00:00:00Z, leadTime: 6h } ]
`,
  'calendar.yaml',
);
const CATALOG = parseCatalog('services:\n  checkout: { namespace: shop, criticality: high, owners: [team-checkout] }\n', 'catalog.yaml');

describe('§3 calendar: evaluated at now in its time zone', () => {
  it('08:30 UTC on a Tuesday is 09:30 in Berlin: business hours', () => {
    expect(evaluateCalendar(CALENDAR, '2026-11-24T08:30:00Z').businessHours).toBe(true);
  });
  it('07:30 UTC is 08:30 in Berlin: not yet', () => expect(evaluateCalendar(CALENDAR, '2026-11-24T07:30:00Z').businessHours).toBe(false));
  it('summer time shifts the offset to +2', () => {
    expect(evaluateCalendar(CALENDAR, '2026-07-14T07:30:00Z').businessHours).toBe(true);
    expect(evaluateCalendar(CALENDAR, '2026-07-14T15:00:00Z').businessHours).toBe(false);
  });
  it('weekends are not business hours; the Sunday maintenance window is', () => {
    expect(evaluateCalendar(CALENDAR, '2026-11-22T01:30:00Z')).toMatchObject({ businessHours: false, maintenanceWindow: true });
  });
  it('a window past midnight belongs to the day it starts', () => {
    expect(evaluateCalendar(CALENDAR, '2026-11-28T23:30:00Z').maintenanceWindow).toBe(false); // Sunday 00:30 after a Saturday
    expect(evaluateCalendar(CALENDAR, '2026-11-27T23:30:00Z').maintenanceWindow).toBe(true); // Saturday 00:30 after Friday 22:00
  });
  it('change freezes and peaks are instants; a peak shows its lead time ahead', () => {
    expect(evaluateCalendar(CALENDAR, '2026-12-24T12:00:00Z').changeFreeze).toBe(true);
    expect(evaluateCalendar(CALENDAR, '2026-11-26T19:00:00Z').peakEvent).toBe('black-friday');
    expect(evaluateCalendar(CALENDAR, '2026-11-26T17:00:00Z').peakEvent).toBeNull();
  });
  it('rejects an unknown time zone', () => expect(() => parseCalendar('timezone: Mars/Olympus', 'cal.yaml')).toThrow(/cal\.yaml: timezone: unknown IANA time zone/));
});

describe('§3 context assembly', () => {
  it('takes the service from the catalog', () => {
    const c = buildContext({ diagnosis: diagnosis({ target: { service: 'checkout' } }), now: '2026-11-24T08:30:00Z', catalog: CATALOG, calendar: CALENDAR });
    expect(c.service).toEqual({ name: 'checkout', namespace: 'shop', criticality: 'high', owners: ['team-checkout'] });
    expect(c.calendar.businessHours).toBe(true);
  });
  it(`an unknown service gets criticality ${UNKNOWN_SERVICE_CRITICALITY} unless the catalog sets defaults`, () => {
    expect(buildContext({ diagnosis: diagnosis({ target: { service: 'ghost' } }), now: '2026-11-24T08:30:00Z', catalog: CATALOG }).service.criticality).toBe('medium');
    const strict = parseCatalog('defaults: { criticality: critical }\nservices: {}\n', 'c.yaml');
    expect(buildContext({ diagnosis: diagnosis({ target: { service: 'ghost' } }), now: '2026-11-24T08:30:00Z', catalog: strict }).service.criticality).toBe('critical');
  });
  it('falls back to bundle data when the repo has no catalog or calendar', () => {
    const bundleData = { arbiter: { catalog: { services: { checkout: { criticality: 'low' } } }, calendar: { timezone: 'UTC', changeFreezes: [{ from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' }] } } };
    const c = buildContext({ diagnosis: diagnosis(), now: '2026-11-24T08:30:00Z', bundleData });
    expect(c.service.criticality).toBe('low');
    expect(c.calendar.changeFreeze).toBe(true);
  });
  it('explicit values win field by field, the rest stays', () => {
    const c = buildContext({ diagnosis: diagnosis(), now: '2026-11-24T08:30:00Z', catalog: CATALOG, calendar: CALENDAR, override: { calendar: { businessHours: false }, service: { criticality: 'low' } } });
    expect(c.calendar).toMatchObject({ businessHours: false, changeFreeze: false });
    expect(c.service).toMatchObject({ criticality: 'low', namespace: 'shop', owners: ['team-checkout'] });
  });
  it('now from the override is used to evaluate the calendar', () => {
    const c = buildContext({ diagnosis: diagnosis(), now: '2026-11-24T02:00:00Z', calendar: CALENDAR, override: { now: '2026-11-24T08:30:00Z' } });
    expect(c).toMatchObject({ now: '2026-11-24T08:30:00Z', calendar: { businessHours: true } });
  });
  it('history and kill switch default to quiet', () => {
    expect(buildContext({ diagnosis: diagnosis(), now: '2026-11-24T08:30:00Z' })).toMatchObject({ killSwitch: false, history: { incidentActions: 0, serviceActionsLastHour: 0, circuitOpen: false } });
  });
});
