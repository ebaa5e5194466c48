package attest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func spdxStatement(t *testing.T) []byte {
	t.Helper()
	pred, err := BuildPredicate(PredicateSPDX, readTestdata(t, "sbom.spdx.json"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st, err := NewStatement([]Subject{{Name: "r.example/app", SHA256: testDigest}}, PredicateSPDX, pred)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPolicyEvaluate(t *testing.T) {
	ctx := context.Background()
	st := spdxStatement(t)
	prov, err := BuildPredicate(PredicateSLSAProvenance1, readTestdata(t, "provenance.slsa1.json"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	provSt, err := NewStatement([]Subject{{Name: "r.example/app", SHA256: testDigest}}, PredicateSLSAProvenance1, prov)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		policy    []byte
		statement []byte
		want      string // "" = passes
	}{
		{"spdx policy passes", readTestdata(t, "policy-spdx.rego"), st, ""},
		{"deny names the package", readTestdata(t, "policy-forbid-musl.rego"), st, "data.signature.deny: package musl 1.2.5-r0 is forbidden"},
		{"cosign v0 policy passes", readTestdata(t, "policy-cosign-v0.rego"), provSt, ""},
		{"cosign v0 policy fails on another type", readTestdata(t, "policy-cosign-v0.rego"), st, "data.signature.allow is not true"},
		{"allow and deny both reported", []byte("package p\nimport rego.v1\nallow if false\ndeny contains \"no\" if true\n"), st, "data.p.allow is not true; data.p.deny: no"},
		{"other package", []byte("package release.gate\nimport rego.v1\nallow if input.predicate.name == \"example-app-1.4.0\"\n"), st, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CompilePolicy(ctx, "policy.rego", tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			err = p.Evaluate(ctx, tt.statement)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("policy failed: %v", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.Is(err, ErrPolicyFailed) || !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCompilePolicyRejects(t *testing.T) {
	ctx := context.Background()
	tests := []struct{ name, src, want string }{
		{"syntax", "package p\nallow if {", "policy.rego"},
		{"no rule", "package p\nimport rego.v1\nother := true\n", "neither a rule allow nor a rule deny"},
		{"network", "package p\nimport rego.v1\nallow if http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1:1\"}).status_code == 200\n", "http.send"},
		{"too large", "package p\n" + strings.Repeat("#", MaxPolicySize), "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompilePolicy(ctx, "policy.rego", []byte(tt.src))
			if !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPolicyInputMustBeJSON(t *testing.T) {
	p, err := CompilePolicy(context.Background(), "p.rego", []byte("package p\nimport rego.v1\nallow if true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Evaluate(context.Background(), []byte("{")); err == nil || errors.Is(err, ErrPolicyFailed) || !strings.Contains(err.Error(), "policy input") {
		t.Fatalf("broken input: %v", err)
	}
}
