# Restarting pods cut off by a network partition makes things worse (cold caches, thundering herd).
package arbiter.policies.no_restart_on_network_partition

verdicts contains {"effect": "deny", "priority": 1000, "reason": "a network partition is never fixed by restarting"} if {
	input.action.kind == "restart"
	some h in input.diagnosis.hypotheses
	h.cause == "network-partition"
}
