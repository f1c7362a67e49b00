# A memory-leak signature is relieved by a rolling restart (what `kubectl rollout restart` does).
package arbiter.policies.restart_on_memory_leak

leak if {
	some h in input.diagnosis.hypotheses
	h.cause == "memory-leak"
	h.confidence >= 0.6
}

proposals contains {"kind": "restart", "reason": "memory-leak signature"} if leak

verdicts contains {"effect": "allow", "priority": 10, "reason": "a rolling restart relieves a memory leak until the fix ships"} if {
	input.action.kind == "restart"
	leak
}
