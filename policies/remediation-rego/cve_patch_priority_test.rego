package arbiter.tests.cve_patch_priority

import data.arbiter.policies.cve_patch_priority as policy
import data.arbiter.tests.fixtures as f

vulnerability := [{"cause": "vulnerability", "confidence": 0.95}]

patch(signals) := f.judging(vulnerability, signals, "patch-image", {"image": "registry.example/api-gateway:1.8.3"})

staging(base) := object.union(base, {"diagnosis": {"target": {"environment": "staging"}}})

test_critical_kev_internet_facing_production_is_allowed if {
	f.effects(policy.verdicts) == {"allow"} with input as patch({"cvss": 9.8, "cisaKev": 1, "internetFacing": 1, "patchAgeDays": 21})
}

test_high_score_notifies if {
	f.effects(policy.verdicts) == {"notify"} with input as patch({"cvss": 5.0, "cisaKev": 0, "internetFacing": 1, "patchAgeDays": 3})
}

test_medium_score_needs_approval if {
	f.effects(policy.verdicts) == {"require_approval"} with input as patch({"cvss": 5.0, "cisaKev": 0, "internetFacing": 0, "patchAgeDays": 3})
}

test_low_score_is_left_to_the_patch_cycle if {
	f.effects(policy.verdicts) == {"escalate"} with input as staging(patch({"cvss": 3.1, "cisaKev": 0, "internetFacing": 0, "patchAgeDays": 30}))
}

test_the_reason_carries_the_score if {
	some v in policy.verdicts with input as staging(patch({"cvss": 3.1, "cisaKev": 0, "internetFacing": 0, "patchAgeDays": 30}))
	v.reason == "CVE risk score 0.31 is low: leave it to the routine patch cycle"
}

test_other_actions_are_not_judged if {
	count(policy.verdicts) == 0 with input as f.judging(vulnerability, {"cvss": 9.8}, "restart", {})
}
