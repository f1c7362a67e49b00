# An exhausted connection pool grows by 20%, never past 80% of the database's max connections; reverted after 30 minutes.
package arbiter.policies.db_pool_increase

signals := input.diagnosis.signals

exhausted if {
	some h in input.diagnosis.hypotheses
	h.cause == "pool-exhaustion"
	h.confidence >= 0.5
	is_number(signals.poolSize)
	is_number(signals.dbMaxConnections)
}

# CEL's int(): truncation toward zero (not ceil(x) below zero: OPA's ceil(-0.5) is 1)
truncate(x) := floor(x) if x >= 0

truncate(x) := 0 - floor(0 - x) if x < 0

cap := truncate(signals.dbMaxConnections * 0.8) if exhausted

grown := truncate((signals.poolSize * 1.2) + 0.5) if exhausted

new_size := min([grown, cap])

proposals contains {
	"kind": "set-config",
	"params": {
		"configMap": concat("", [input.diagnosis.target.service, "-db"]),
		"key": "poolSize",
		"revertAfter": "30m",
		"value": new_size,
	},
	"reason": "connection pool exhausted",
} if {
	exhausted
	new_size > signals.poolSize
}

requested := input.action.params.value if {
	input.action.params.key == "poolSize"
	is_number(input.action.params.value)
	is_number(signals.dbMaxConnections)
}

verdicts contains {"effect": "allow", "priority": 10, "reason": "pool size stays within 80% of the database's max connections"} if {
	input.action.kind == "set-config"
	requested <= signals.dbMaxConnections * 0.8
}

verdicts contains {"effect": "deny", "priority": 60, "reason": "a pool above 80% of the database's max connections starves other clients"} if {
	input.action.kind == "set-config"
	requested > signals.dbMaxConnections * 0.8
}
