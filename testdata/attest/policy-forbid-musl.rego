package signature

import rego.v1

deny contains msg if {
	some p in input.predicate.packages
	p.name == "musl"
	msg := sprintf("package %s %s is forbidden", [p.name, p.versionInfo])
}
