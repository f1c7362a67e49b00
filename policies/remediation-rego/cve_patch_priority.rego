# Patch urgency from a composite risk score: CVSS/10 × 2.0 if in CISA KEV × 1.5 if internet-facing × 1.3 in production
# × 0.85 if the patch is younger than 7 days. critical (≥ 0.85) → allow, high (≥ 0.65) → notify,
# medium (≥ 0.40) → require_approval, low → escalate (left to the routine patch cycle).
package arbiter.policies.cve_patch_priority

signals := input.diagnosis.signals

default cvss := 0.0

cvss := signals.cvss

kev := 2.0 if signals.cisaKev >= 1.0 else := 1.0

exposure := 1.5 if signals.internetFacing >= 1.0 else := 1.0

environment := 1.3 if input.diagnosis.target.environment == "production" else := 1.0

freshness := 0.85 if signals.patchAgeDays < 7.0 else := 1.0

# the same left-to-right product as the CEL edition, so both round alike
score := ((((cvss / 10.0) * kev) * exposure) * environment) * freshness

vulnerable if {
	some h in input.diagnosis.hypotheses
	h.cause == "vulnerability"
}

verdicts contains {"effect": "allow", "priority": 20, "reason": sprintf("CVE risk score %v is critical: patch now", [score])} if {
	input.action.kind == "patch-image"
	vulnerable
	score >= 0.85
}

verdicts contains {"effect": "notify", "priority": 20, "reason": sprintf("CVE risk score %v is high: patch and notify the owners", [score])} if {
	input.action.kind == "patch-image"
	vulnerable
	score >= 0.65
	score < 0.85
}

verdicts contains {"effect": "require_approval", "priority": 20, "reason": sprintf("CVE risk score %v is medium: patch after review", [score])} if {
	input.action.kind == "patch-image"
	vulnerable
	score >= 0.40
	score < 0.65
}

verdicts contains {"effect": "escalate", "priority": 20, "reason": sprintf("CVE risk score %v is low: leave it to the routine patch cycle", [score])} if {
	input.action.kind == "patch-image"
	vulnerable
	score < 0.40
}
