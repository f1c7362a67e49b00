# Restarts drop in-flight requests; during business hours they are not done automatically.
package arbiter.policies.no_restart_in_business_hours

verdicts contains {"effect": "deny", "priority": 50, "reason": "restarts drop in-flight requests during business hours"} if {
	input.action.kind == "restart"
	input.context.calendar.businessHours == true
}
