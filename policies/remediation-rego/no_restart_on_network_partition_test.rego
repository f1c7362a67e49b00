package arbiter.tests.no_restart_on_network_partition

import data.arbiter.policies.no_restart_on_network_partition as policy
import data.arbiter.tests.fixtures as f

partition := [{"cause": "memory-leak", "confidence": 0.7}, {"cause": "network-partition", "confidence": 0.3}]

test_a_partition_hypothesis_denies_restarts_at_priority_1000 if {
	some v in policy.verdicts with input as f.judging(partition, {}, "restart", {})
	v.effect == "deny"
	v.priority == 1000
}

test_without_a_partition_there_is_no_verdict if {
	count(policy.verdicts) == 0 with input as f.judging([{"cause": "memory-leak", "confidence": 0.9}], {}, "restart", {})
}
