package arbiter.tests.predictive_scale_up

import data.arbiter.policies.predictive_scale_up as policy
import data.arbiter.tests.fixtures as f

surge := [{"cause": "load-surge", "confidence": 0.7}]

black_friday := {"businessHours": false, "maintenanceWindow": false, "changeFreeze": false, "peakEvent": "black-friday"}

test_a_forecast_surge_scales_by_the_forecast_ratio if {
	proposals := policy.proposals with input as f.proposing(surge, {"forecastLoadRatio": 1.4})
	proposals == {{"kind": "scale", "params": {"percent": 40}, "reason": "forecast load surge"}}
}

test_a_known_peak_alone_proposes_50_percent if {
	proposals := policy.proposals with input as f.with_calendar(f.proposing(surge, {"forecastLoadRatio": 1.0}), black_friday)
	proposals == {{"kind": "scale", "params": {"percent": 50}, "reason": "known peak black-friday ahead"}}
}

test_no_peak_and_no_forecast_no_scale_up if {
	count(policy.proposals) == 0 with input as f.proposing(surge, {"forecastLoadRatio": 1.1})
}

test_scaling_ahead_is_allowed if {
	f.effects(policy.verdicts) == {"allow"} with input as f.judging(surge, {"forecastLoadRatio": 1.4}, "scale", {"percent": 40})
}

test_percent_truncates_toward_zero_like_cel_int if {
	policy.truncate(40.49) == 40
	policy.truncate(-0.5) == 0
}
