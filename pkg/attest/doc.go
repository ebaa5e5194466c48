// Package attest builds in-toto attestations from predicates and evaluates policies on them.
package attest
