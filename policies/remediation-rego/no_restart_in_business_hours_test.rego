package arbiter.tests.no_restart_in_business_hours

import data.arbiter.policies.no_restart_in_business_hours as policy
import data.arbiter.tests.fixtures as f

leak := [{"cause": "memory-leak", "confidence": 0.9}]

office := {"businessHours": true, "maintenanceWindow": false, "changeFreeze": false, "peakEvent": null}

test_a_restart_in_business_hours_is_denied if {
	f.effects(policy.verdicts) == {"deny"} with input as f.with_calendar(f.judging(leak, {}, "restart", {}), office)
}

test_no_verdict_outside_business_hours if {
	count(policy.verdicts) == 0 with input as f.judging(leak, {}, "restart", {})
}

test_other_actions_are_not_judged if {
	count(policy.verdicts) == 0 with input as f.with_calendar(f.judging(leak, {}, "rollback", {}), office)
}
