package attest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cosign-like/cosign-like/pkg/attest"
)

// An SBOM becomes the predicate of a statement about an image digest, and a Rego policy judges
// the statement.
func Example() {
	ctx := context.Background()
	typ, err := attest.PredicateType("cyclonedx")
	if err != nil {
		panic(err)
	}
	sbom := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library","name":"musl","version":"1.2.5"}]}`)
	pred, err := attest.BuildPredicate(typ, sbom, time.Now())
	if err != nil {
		panic(err)
	}
	st, err := attest.NewStatement([]attest.Subject{{
		Name:   "registry.example.com/app",
		SHA256: "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf",
	}}, typ, pred)
	if err != nil {
		panic(err)
	}
	policy, err := attest.CompilePolicy(ctx, "sbom.rego", []byte(`package signature
import rego.v1
deny contains msg if {
	some c in input.predicate.components
	c.name == "musl"
	msg := sprintf("component %s %s is not allowed", [c.name, c.version])
}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(typ)
	fmt.Println(policy.Evaluate(ctx, st))
	// Output:
	// https://cyclonedx.org/bom
	// policy failed: data.signature.deny: component musl 1.2.5 is not allowed
}
