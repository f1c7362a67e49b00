# A canary whose p99 latency is at least 1.2x the stable one, significantly (KS p < 0.01), loses its traffic.
package arbiter.policies.canary_shift_traffic

signals := input.diagnosis.signals

regression if {
	signals.canaryLatencyP99Ms >= 1.2 * signals.stableLatencyP99Ms
	signals.ksPValue < 0.01
}

proposals contains {"kind": "shift-traffic", "params": {"canaryWeight": 0}, "reason": "canary p99 regression"} if regression

verdicts contains {
	"effect": "allow",
	"priority": 10,
	"reason": "the canary is significantly slower than stable (p99 ≥ 1.2x, KS p < 0.01)",
} if {
	input.action.kind == "shift-traffic"
	regression
}
