package signature

allow {
	input.predicateType == "https://slsa.dev/provenance/v1"
	startswith(input.predicate.runDetails.builder.id, "https://github.com/example/app/")
}
