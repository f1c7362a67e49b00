package arbiter.tests.canary_shift_traffic

import data.arbiter.policies.canary_shift_traffic as policy
import data.arbiter.tests.fixtures as f

regression := [{"cause": "canary-regression", "confidence": 0.8}]

slow := {"canaryLatencyP99Ms": 480, "stableLatencyP99Ms": 320, "ksPValue": 0.002}

test_a_significantly_slower_canary_loses_its_traffic if {
	some p in policy.proposals with input as f.proposing(regression, slow)
	p == {"kind": "shift-traffic", "params": {"canaryWeight": 0}, "reason": "canary p99 regression"}
	f.effects(policy.verdicts) == {"allow"} with input as f.judging(regression, slow, "shift-traffic", {"canaryWeight": 0})
}

test_exactly_1_2x_the_stable_p99_is_enough if {
	f.kinds(policy.proposals) == {"shift-traffic"} with input as f.proposing(regression, object.union(slow, {"canaryLatencyP99Ms": 384}))
}

test_without_significance_the_canary_is_left_alone if {
	count(policy.proposals) == 0 with input as f.proposing(regression, object.union(slow, {"ksPValue": 0.05}))
	count(policy.verdicts) == 0 with input as f.judging(regression, object.union(slow, {"ksPValue": 0.05}), "shift-traffic", {})
}

test_below_1_2x_the_canary_is_left_alone if {
	count(policy.proposals) == 0 with input as f.proposing(regression, object.union(slow, {"canaryLatencyP99Ms": 380}))
}

test_missing_signals_propose_nothing if {
	count(policy.proposals) == 0 with input as f.proposing(regression, {"canaryLatencyP99Ms": 480})
}
