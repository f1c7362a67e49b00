package arbiter.tests.db_pool_increase

import data.arbiter.policies.db_pool_increase as policy
import data.arbiter.tests.fixtures as f

exhaustion := [{"cause": "pool-exhaustion", "confidence": 0.88}]

test_an_exhausted_pool_grows_by_20_percent_for_30_minutes if {
	proposals := policy.proposals with input as f.proposing(exhaustion, {"poolSize": 50, "dbMaxConnections": 100})
	proposals == {{
		"kind": "set-config",
		"params": {"configMap": "checkout-db", "key": "poolSize", "revertAfter": "30m", "value": 60},
		"reason": "connection pool exhausted",
	}}
}

test_the_increase_is_capped_at_80_percent_of_max_connections if {
	some p in policy.proposals with input as f.proposing(exhaustion, {"poolSize": 75, "dbMaxConnections": 100})
	p.params.value == 80
}

test_a_pool_at_the_cap_is_not_grown if {
	count(policy.proposals) == 0 with input as f.proposing(exhaustion, {"poolSize": 80, "dbMaxConnections": 100})
}

test_a_size_within_the_cap_is_allowed if {
	f.effects(policy.verdicts) == {"allow"} with input as f.judging(exhaustion, {"poolSize": 50, "dbMaxConnections": 100}, "set-config", {"configMap": "checkout-db", "key": "poolSize", "value": 60})
}

test_a_size_over_the_cap_is_denied_at_priority_60 if {
	some v in policy.verdicts with input as f.judging(exhaustion, {"poolSize": 50, "dbMaxConnections": 100}, "set-config", {"configMap": "checkout-db", "key": "poolSize", "value": 95})
	v.effect == "deny"
	v.priority == 60
}

test_a_non_numeric_size_is_not_judged if {
	count(policy.verdicts) == 0 with input as f.judging(exhaustion, {"dbMaxConnections": 100}, "set-config", {"key": "poolSize", "value": "95"})
}

test_sizes_truncate_toward_zero_like_cel_int if {
	policy.truncate(59.9) == 59
	policy.truncate(-2.5) == -2
}
