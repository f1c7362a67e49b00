package arbiter.tests.rollback_after_bad_deploy

import data.arbiter.policies.rollback_after_bad_deploy as policy
import data.arbiter.tests.fixtures as f

deploy := [{"cause": "bad-deployment", "confidence": 0.9}]

test_an_error_spike_after_a_bad_deployment_rolls_back if {
	f.kinds(policy.proposals) == {"rollback"} with input as f.proposing(deploy, {"errorRate": 0.12})
	some v in policy.verdicts with input as f.judging(deploy, {"errorRate": 0.12}, "rollback", {})
	v == {"effect": "allow", "priority": 10, "reason": "error rate 0.12 after a deployment: roll back"}
}

test_no_spike_no_rollback if {
	count(policy.proposals) == 0 with input as f.proposing(deploy, {"errorRate": 0.01, "baselineErrorRate": 0.008})
	count(policy.verdicts) == 0 with input as f.judging(deploy, {"errorRate": 0.01, "baselineErrorRate": 0.008}, "rollback", {})
}

test_a_spike_relative_to_the_baseline_counts if {
	f.effects(policy.verdicts) == {"allow"} with input as f.judging(deploy, {"errorRate": 0.03, "baselineErrorRate": 0.005}, "rollback", {})
}

test_a_weak_hypothesis_is_not_enough if {
	count(policy.proposals) == 0 with input as f.proposing([{"cause": "bad-deployment", "confidence": 0.4}], {"errorRate": 0.12})
}
