package attest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCUEPolicy(t *testing.T) {
	ctx := context.Background()
	sbom, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attest", "sbom.spdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	statement := func(predicateType string) []byte {
		return append(append([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"`+predicateType+`","predicate":`), sbom...), '}')
	}
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attest", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	for _, c := range []struct {
		name, file, predicateType string
		want                      []string // in the failure; none: passes
	}{
		{"licence gate passes", "policy-spdx.cue", PredicateSPDX, nil},
		{"wrong predicate type", "policy-spdx.cue", PredicateCycloneDX, []string{`policy-spdx.cue: predicateType: conflicting values "https://cyclonedx.org/bom" and "https://spdx.dev/Document"`, "policy-spdx.cue:4:16"}},
		{"forbidden package", "policy-forbid-musl.cue", PredicateSPDX, []string{`predicate.packages.2.name: invalid value "musl" (out of bound !="musl")`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, compile := range []func(string, []byte) (*Policy, error){CompileCUEPolicy, CompileCUEFile} {
				p, err := compile(c.file, read(c.file))
				if err != nil {
					t.Fatal(err)
				}
				err = p.Evaluate(ctx, statement(c.predicateType))
				if c.want == nil {
					if err != nil {
						t.Fatal(err)
					}
					continue
				}
				var pe *PolicyError
				if !errors.As(err, &pe) || !errors.Is(err, ErrPolicyFailed) {
					t.Fatalf("err %v, want a *PolicyError", err)
				}
				for _, w := range c.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("err = %v\nwant it to say %q", err, w)
					}
				}
			}
		})
	}
}

func TestCUEPolicyRefused(t *testing.T) {
	for src, want := range map[string]string{
		"predicate: {":                       "invalid policy: bad.cue: expected '}', found 'EOF' (bad.cue:1:13)",
		"a: 1\na: 2":                         "invalid policy: bad.cue: a: conflicting values 2 and 1",
		`import "nosuchpackage"` + "\n":      `bad.cue: builtin package "nosuchpackage" undefined (bad.cue:1:8)`,
		strings.Repeat(" ", MaxPolicySize+1): "at most 1048576 allowed",
	} {
		_, err := CompileCUEPolicy("bad.cue", []byte(src))
		if !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to say %q", err, want)
		}
	}
	p, err := CompileCUEPolicy("p.cue", []byte(`predicate: x: 1`))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Evaluate(context.Background(), []byte(`{"predicate":`)); err == nil || !strings.Contains(err.Error(), "policy input: not JSON") {
		t.Errorf("err = %v", err)
	}
}
