package arbiter.tests.restart_on_memory_leak

import data.arbiter.policies.restart_on_memory_leak as policy
import data.arbiter.tests.fixtures as f

test_a_confident_leak_proposes_and_allows_a_restart if {
	f.kinds(policy.proposals) == {"restart"} with input as f.proposing([{"cause": "memory-leak", "confidence": 0.9}], {})
	f.effects(policy.verdicts) == {"allow"} with input as f.judging([{"cause": "memory-leak", "confidence": 0.9}], {}, "restart", {})
}

test_the_threshold_is_inclusive if {
	f.kinds(policy.proposals) == {"restart"} with input as f.proposing([{"cause": "memory-leak", "confidence": 0.6}], {})
}

test_a_weak_leak_proposes_nothing if {
	count(policy.proposals) == 0 with input as f.proposing([{"cause": "memory-leak", "confidence": 0.5}], {})
	count(policy.verdicts) == 0 with input as f.judging([{"cause": "memory-leak", "confidence": 0.5}], {}, "restart", {})
}
