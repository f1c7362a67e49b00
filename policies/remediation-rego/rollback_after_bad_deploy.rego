# An error spike that follows a deployment is rolled back to the last known-good revision.
package arbiter.policies.rollback_after_bad_deploy

signals := input.diagnosis.signals

spike if signals.errorRate >= 0.05

spike if signals.errorRate >= 3.0 * signals.baselineErrorRate

bad_deploy if {
	some h in input.diagnosis.hypotheses
	h.cause == "bad-deployment"
	h.confidence >= 0.5
}

proposals contains {"kind": "rollback", "reason": "error spike after a deployment"} if {
	spike
	bad_deploy
}

verdicts contains {"effect": "allow", "priority": 10, "reason": sprintf("error rate %v after a deployment: roll back", [signals.errorRate])} if {
	input.action.kind == "rollback"
	spike
	bad_deploy
}
