// Package attest builds in-toto attestations from predicates and evaluates policies on them.
//
// It maps cosign's --type names to predicate type URIs (PredicateType), checks that a predicate
// parses as its type claims (CheckPredicate: SPDX, CycloneDX, SLSA provenance v0.2 and v1, in-toto
// links, cosign's vuln and custom predicates, OpenVEX), builds in-toto v1 statements about an image
// digest or a blob without re-encoding large predicates (BuildPredicate, NewStatement), reads the
// DSSE envelopes of cosign's legacy .att layers (MarshalEnvelope, ParseEnvelope, LegacyBundles),
// and evaluates Rego and CUE policies against verified statements (CompilePolicy,
// CompileCUEPolicy, CompileCUEFile, Policy.Evaluate). It
// performs no network I/O.
package attest
