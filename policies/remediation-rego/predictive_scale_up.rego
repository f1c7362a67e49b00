# Scale up ahead of a known peak (calendar) or a forecast load surge.
package arbiter.policies.predictive_scale_up

forecast if input.diagnosis.signals.forecastLoadRatio >= 1.3

peak if input.context.calendar.peakEvent != null

ahead if peak

ahead if forecast

# CEL's int(): truncation toward zero (not ceil(x) below zero: OPA's ceil(-0.5) is 1)
truncate(x) := floor(x) if x >= 0

truncate(x) := 0 - floor(0 - x) if x < 0

percent := truncate(((input.diagnosis.signals.forecastLoadRatio - 1.0) * 100.0) + 0.5) if forecast else := 50

reason := sprintf("known peak %s ahead", [input.context.calendar.peakEvent]) if peak else := "forecast load surge"

proposals contains {"kind": "scale", "params": {"percent": percent}, "reason": reason} if ahead

verdicts contains {"effect": "allow", "priority": 10, "reason": "capacity ahead of a known or forecast peak"} if {
	input.action.kind == "scale"
	ahead
}
