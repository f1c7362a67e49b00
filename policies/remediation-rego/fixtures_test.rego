# Inputs for the policy tests: a diagnosis and context as `arbiter decide` builds them, with the parts a test varies.
package arbiter.tests.fixtures

context := {
	"now": "2026-11-21T02:13:00Z",
	"service": {"name": "checkout", "namespace": "shop", "criticality": "high", "owners": ["team-checkout"]},
	"calendar": {"businessHours": false, "maintenanceWindow": false, "changeFreeze": false, "peakEvent": null},
	"history": {"incidentActions": 0, "serviceActionsLastHour": 0, "circuitOpen": false},
	"killSwitch": false,
}

diagnosis(hypotheses, signals) := {
	"apiVersion": "arbiter.dev/v1",
	"kind": "Diagnosis",
	"id": "diag-test",
	"incident": "INC-TEST",
	"observedAt": "2026-11-21T02:13:00Z",
	"target": {"service": "checkout", "namespace": "shop", "environment": "production"},
	"signals": signals,
	"hypotheses": hypotheses,
}

# the propose phase: no action
proposing(hypotheses, signals) := {"diagnosis": diagnosis(hypotheses, signals), "context": context}

# the judge phase for one candidate
judging(hypotheses, signals, kind, params) := {
	"diagnosis": diagnosis(hypotheses, signals),
	"context": context,
	"action": {"kind": kind, "target": {"service": "checkout", "namespace": "shop"}, "params": params},
}

with_calendar(base, calendar) := object.union(base, {"context": {"calendar": calendar}})

effects(verdicts) := {v.effect | some v in verdicts}

kinds(proposals) := {p.kind | some p in proposals}
