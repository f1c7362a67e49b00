package arbiter.tests.critical_needs_human

import data.arbiter.policies.critical_needs_human as policy
import data.arbiter.tests.fixtures as f

leak := [{"cause": "memory-leak", "confidence": 0.9}]

critical(base) := object.union(base, {"context": {"service": {"criticality": "critical"}}})

test_a_critical_service_needs_approval if {
	f.effects(policy.verdicts) == {"require_approval"} with input as critical(f.judging(leak, {}, "restart", {}))
}

test_high_criticality_services_are_not_affected if {
	count(policy.verdicts) == 0 with input as f.judging(leak, {}, "restart", {})
}
