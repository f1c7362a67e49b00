package arbiter.tests.change_freeze

import data.arbiter.policies.change_freeze as policy
import data.arbiter.tests.fixtures as f

deploy := [{"cause": "bad-deployment", "confidence": 0.9}]

frozen := {"businessHours": false, "maintenanceWindow": false, "changeFreeze": true, "peakEvent": null}

test_every_change_needs_approval_during_a_freeze if {
	every kind in ["rollback", "restart", "scale"] {
		verdicts := policy.verdicts with input as f.with_calendar(f.judging(deploy, {}, kind, {}), frozen)
		verdicts == {{"effect": "require_approval", "priority": 90, "reason": "change freeze in effect"}}
	}
}

test_no_verdict_outside_a_freeze if {
	count(policy.verdicts) == 0 with input as f.judging(deploy, {}, "rollback", {})
}
