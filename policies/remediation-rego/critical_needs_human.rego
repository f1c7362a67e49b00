# Changes to critical services always go through a human (a pull request), whatever else allows them.
package arbiter.policies.critical_needs_human

verdicts contains {"effect": "require_approval", "priority": 100, "reason": "critical services always need a human"} if {
	input.context.service.criticality == "critical"
}
