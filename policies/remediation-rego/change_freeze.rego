# During a change freeze every change needs a human's approval.
package arbiter.policies.change_freeze

verdicts contains {"effect": "require_approval", "priority": 90, "reason": "change freeze in effect"} if {
	input.context.calendar.changeFreeze == true
}
