package signature

import rego.v1

# The SBOM must be SPDX 2.3 and must not list a package under a copyleft licence.
default allow := false

allow if {
	input.predicateType == "https://spdx.dev/Document"
	input.predicate.spdxVersion == "SPDX-2.3"
	count(deny) == 0
}

deny contains msg if {
	some p in input.predicate.packages
	startswith(p.licenseConcluded, "GPL")
	msg := sprintf("package %s is licensed %s", [p.name, p.licenseConcluded])
}
