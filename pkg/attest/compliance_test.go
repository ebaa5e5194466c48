package attest

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCompliancePolicy(t *testing.T) {
	ctx := context.Background()
	st := spdxStatement(t)
	for _, c := range []struct {
		name, src string
		fail      string // "" when the statement passes
	}{
		{"boolean true, v0 syntax", "package sigstore\ndefault isCompliant = false\nisCompliant {\n  input.predicateType == \"https://spdx.dev/Document\"\n}\n", ""},
		{"boolean true, v1 syntax", "package sigstore\ndefault isCompliant := false\nisCompliant if input.predicateType == \"https://spdx.dev/Document\"\n", ""},
		{"boolean false", "package sigstore\ndefault isCompliant = false\nisCompliant {\n  input.predicateType == \"https://slsa.dev/provenance/v1\"\n}\n", "data.sigstore.isCompliant is not true"},
		{"undefined", "package sigstore\nisCompliant {\n  false\n}\n", "data.sigstore.isCompliant is not true"},
		{"result object", "package sigstore\nisCompliant = {\"result\": true}\n", ""},
		{"result with error", "package sigstore\nisCompliant = {\"result\": false, \"error\": \"no SBOM of ours\"}\n", "data.sigstore.isCompliant: no SBOM of ours"},
		{"result with warning", "package sigstore\nisCompliant = {\"result\": true, \"warning\": \"old SBOM\"}\n", "data.sigstore.isCompliant warns: old SBOM"},
		{"list of results", "package sigstore\nisCompliant = [{\"result\": false, \"error\": \"a\"}, {\"result\": true}]\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := CompileCompliancePolicy(ctx, "cip.rego", []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			err = p.Evaluate(ctx, st)
			switch {
			case c.fail == "" && err != nil:
				t.Fatalf("failed: %v", err)
			case c.fail != "" && (!errors.Is(err, ErrPolicyFailed) || !strings.Contains(err.Error(), c.fail)):
				t.Fatalf("err = %v, want a policy failure saying %q", err, c.fail)
			}
		})
	}
	for name, src := range map[string]string{
		"another package": "package signature\nisCompliant = true\n",
		"no rule":         "package sigstore\nallow = true\n",
		"network":         "package sigstore\nisCompliant { http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1/\"}) }\n",
	} {
		if _, err := CompileCompliancePolicy(ctx, "cip.rego", []byte(src)); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("%s: err = %v, want ErrInvalidPolicy", name, err)
		}
	}
}
