// The Alertmanager adapter (engine/alertmanager.ts): webhook v4 → Diagnosis, documented mapping, errors naming fields.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diagnosisFromAlertmanager } from '../../engine/alertmanager.ts';
import { InputError } from '../../engine/errors.ts';
import { Diagnosis } from '../../engine/types.ts';

type Alert = { status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; fingerprint: string };

function payload(alerts: Alert[], groupKey = '{}/{service="checkout"}:{cause="memory-leak"}') {
  return { version: '4', groupKey, truncatedAlerts: 0, status: 'firing', receiver: 'arbiter', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am.invalid', alerts };
}

function alert(labels: Record<string, string>, annotations: Record<string, string>, startsAt = '2026-11-21T02:10:00Z', fingerprint = 'f1', status = 'firing'): Alert {
  return { status, labels: { alertname: 'A', ...labels }, annotations, startsAt, fingerprint };
}

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('alertmanager: the documented mapping', () => {
  it('labels → target, annotations → hypotheses, groupKey → incident', () => {
    const d = diagnosisFromAlertmanager(
      payload([
        alert({ service: 'checkout', namespace: 'shop', environment: 'production', cause: 'memory-leak' }, { confidence: '0.7', evidence: 'RSS +40MB/h\n\nOOMKilled x3', signal_errorRate: '0.12', action: 'restart' }, '2026-11-21T02:10:00.5Z', 'f1'),
        alert({ service: 'checkout', namespace: 'shop', cause: 'memory-leak' }, { confidence: '0.9', summary: 'heap growing', signal_errorRate: '0.2' }, '2026-11-21T02:12:00.123456789Z', 'f2'),
        alert({ service: 'checkout', cause: 'bad-deployment' }, { confidence: '0.4', description: 'deployed 1.4.2 at 02:05' }, '2026-11-21T02:11:00Z', 'f3'),
        alert({ service: 'payments' }, { confidence: '1' }, '2026-11-21T02:13:00Z', 'f4', 'resolved'),
      ]),
    );
    expect('ignored' in d).toBe(false);
    const diag = d as Diagnosis;
    expect(diag.incident).toMatch(/^am-[0-9a-f]{24}$/);
    expect(diag.id).toMatch(/^am-[0-9a-f]{24}$/);
    expect(diag.id).not.toBe(diag.incident);
    expect(diag.observedAt).toBe('2026-11-21T02:12:00Z');
    expect(diag.source).toBe('alertmanager');
    expect(diag.target).toEqual({ service: 'checkout', namespace: 'shop', environment: 'production' });
    expect(diag.signals).toEqual({ errorRate: 0.2 });
    expect(diag.hypotheses).toEqual([
      { cause: 'bad-deployment', confidence: 0.4, evidence: ['deployed 1.4.2 at 02:05'] },
      { cause: 'memory-leak', confidence: 0.9, evidence: ['RSS +40MB/h', 'OOMKilled x3', 'heap growing'], suggestedActions: [{ kind: 'restart' }] },
    ]);
  });

  it('an alert without a cause label is an `unknown` hypothesis', () => {
    const d = diagnosisFromAlertmanager(payload([alert({ service: 'checkout' }, { confidence: '0.5' })])) as Diagnosis;
    expect(d.hypotheses).toEqual([{ cause: 'unknown', confidence: 0.5 }]);
  });

  it('a notification with only resolved alerts is ignored, not an error', () => {
    expect(diagnosisFromAlertmanager(payload([alert({ service: 'checkout' }, { confidence: '0.5' }, undefined, 'f', 'resolved')]))).toMatchObject({ ignored: expect.stringMatching(/no firing alerts/) });
  });
});

describe('alertmanager: what cannot be mapped is refused, naming the field', () => {
  const cases: Array<[string, unknown, string]> = [
    ['not an object', [], 'alertmanager: (document)'],
    ['another payload version', { ...payload([alert({ service: 'checkout' }, { confidence: '0.5' })]), version: '3' }, 'alertmanager: version'],
    ['no groupKey', { ...payload([alert({ service: 'checkout' }, { confidence: '0.5' })]), groupKey: '' }, 'alertmanager: groupKey'],
    ['no alerts', payload([]), 'alertmanager: alerts'],
    ['no service label', payload([alert({}, { confidence: '0.5' })]), 'alertmanager: alerts[0].labels.service'],
    ['a service that is not a DNS label', payload([alert({ service: '../etc' }, { confidence: '0.5' })]), 'alertmanager: alerts[0].labels.service'],
    ['two services in one group', payload([alert({ service: 'checkout' }, { confidence: '0.5' }), alert({ service: 'payments' }, { confidence: '0.5' })]), 'alertmanager: alerts[1].labels.service'],
    ['no confidence', payload([alert({ service: 'checkout' }, {})]), 'alertmanager: alerts[0].annotations.confidence'],
    ['confidence out of range', payload([alert({ service: 'checkout' }, { confidence: '1.5' })]), 'alertmanager: alerts[0].annotations.confidence'],
    ['confidence not a number', payload([alert({ service: 'checkout' }, { confidence: 'high' })]), 'alertmanager: alerts[0].annotations.confidence'],
    ['a cause with capitals', payload([alert({ service: 'checkout', cause: 'Memory Leak' }, { confidence: '0.5' })]), 'alertmanager: alerts[0].labels.cause'],
    ['an unknown action', payload([alert({ service: 'checkout' }, { confidence: '0.5', action: 'reboot-cluster' })]), 'alertmanager: alerts[0].annotations.action'],
    ['a signal that is not a number', payload([alert({ service: 'checkout' }, { confidence: '0.5', signal_errorRate: 'lots' })]), 'alertmanager: alerts[0].annotations.signal_errorRate'],
    ['a bad startsAt', payload([alert({ service: 'checkout' }, { confidence: '0.5' }, 'yesterday')]), 'alertmanager: alerts[0].startsAt'],
  ];
  for (const [name, value, where] of cases) {
    it(name, () => {
      expect(errorOf(() => diagnosisFromAlertmanager(value)).where).toBe(where);
    });
  }
});

describe('alertmanager: properties', () => {
  const causes = fc.constantFrom('memory-leak', 'bad-deployment', 'pool-exhaustion', 'unknown');
  const alerts = fc.array(
    fc.record({
      cause: causes,
      confidence: fc.double({ min: 0, max: 1, noNaN: true }),
      minute: fc.integer({ min: 0, max: 59 }),
      fingerprint: fc.stringMatching(/^[0-9a-f]{4,16}$/),
    }),
    { minLength: 1, maxLength: 12 },
  );

  it('every well-formed group maps to a valid Diagnosis, whatever the alert order; one hypothesis per cause', () => {
    fc.assert(
      fc.property(alerts, fc.string({ minLength: 1, maxLength: 80 }), (list, groupKey) => {
        const built = list.map((a) => alert({ service: 'checkout', cause: a.cause }, { confidence: String(a.confidence) }, `2026-11-21T02:${String(a.minute).padStart(2, '0')}:00Z`, a.fingerprint));
        const d = diagnosisFromAlertmanager(payload(built, groupKey)) as Diagnosis;
        expect(Diagnosis.safeParse(d).success).toBe(true);
        expect(d.hypotheses.map((h) => h.cause)).toEqual([...new Set(list.map((a) => a.cause))].sort());
        for (const h of d.hypotheses) expect(h.confidence).toBe(Math.max(...list.filter((a) => a.cause === h.cause).map((a) => Number(String(a.confidence)))));
        const reversed = diagnosisFromAlertmanager(payload([...built].reverse(), groupKey)) as Diagnosis;
        expect(reversed.id).toBe(d.id);
        expect(reversed.hypotheses.map((h) => [h.cause, h.confidence])).toEqual(d.hypotheses.map((h) => [h.cause, h.confidence]));
      }),
      { numRuns: 200 },
    );
  });

  it('the incident depends only on the groupKey', () => {
    fc.assert(
      fc.property(alerts, alerts, fc.string({ minLength: 1, maxLength: 40 }), (a, b, groupKey) => {
        const mk = (list: typeof a) => diagnosisFromAlertmanager(payload(list.map((x) => alert({ service: 'checkout', cause: x.cause }, { confidence: String(x.confidence) }, undefined, x.fingerprint)), groupKey)) as Diagnosis;
        expect(mk(a).incident).toBe(mk(b).incident);
      }),
      { numRuns: 100 },
    );
  });
});
