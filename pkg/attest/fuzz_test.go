package attest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParseEnvelope(f *testing.F) {
	if env, err := MarshalEnvelope("application/vnd.in-toto+json", []byte(`{"_type":"https://in-toto.io/Statement/v1"}`), []byte("sig")); err == nil {
		f.Add(env)
	}
	f.Add([]byte(`{"payloadType":"t","payload":"","signatures":[{"keyid":"k","sig":"AQ=="},{"sig":"Ag=="}]}`))
	f.Add([]byte(`{"payloadType":"t","payload":"_-8=","signatures":[{"sig":"AQ"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvelope(data, 1<<20)
		if err != nil {
			return
		}
		if env.PayloadType == "" || len(env.Signatures) == 0 || len(env.Signatures) > MaxEnvelopeSignatures {
			t.Fatalf("accepted envelope breaks the contract: %+v", env)
		}
		for _, s := range env.Signatures {
			if len(s) == 0 {
				t.Fatal("accepted an empty signature")
			}
		}
		if _, err := LegacyBundles(env, nil); err != nil {
			t.Fatalf("accepted envelope does not convert: %v", err)
		}
	})
}

func FuzzParseStatementInfo(f *testing.F) {
	for _, name := range []string{"sbom.spdx.json", "sbom.cdx.json", "provenance.slsa1.json", "vuln.json"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attest", name))
		if err != nil {
			f.Fatal(err)
		}
		for _, typ := range []string{PredicateSPDX, PredicateCycloneDX, PredicateSLSAProvenance1, PredicateVuln} {
			if st, err := NewStatement([]Subject{{Name: "x", SHA256: testDigest}}, typ, data); err == nil {
				f.Add(st)
			}
		}
	}
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"` + testDigest + `"}}],"predicateType":"https://e/p","predicate":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if info, err := ReadStatementInfo(data); err == nil {
			if err := CheckPredicate(info.PredicateType, info.Predicate); err != nil {
				t.Fatalf("ReadStatementInfo accepted a predicate that does not check: %v", err)
			}
		}
		info, err := ParseStatementInfo(data)
		if err != nil {
			return
		}
		if err := CheckPredicate(info.PredicateType, info.Predicate); err != nil {
			t.Fatalf("accepted statement whose predicate does not check: %v", err)
		}
	})
}

func FuzzCheckPredicate(f *testing.F) {
	for _, name := range []string{"sbom.spdx.json", "sbom.cdx.json", "provenance.slsa1.json", "provenance.slsa02.json", "link.json", "vuln.json", "openvex.json"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attest", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(0), data)
	}
	types := []string{PredicateSPDX, PredicateCycloneDX, PredicateSLSAProvenance1, PredicateSLSAProvenance02, PredicateLink, PredicateVuln, PredicateOpenVEX, PredicateCustom, "https://e/p"}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		typ := types[int(which)%len(types)]
		if err := CheckPredicate(typ, data); err != nil {
			return
		}
		if _, err := NewStatement([]Subject{{Name: "x", SHA256: testDigest}}, typ, data); err != nil {
			t.Fatalf("predicate accepted by CheckPredicate but not by NewStatement: %v", err)
		}
	})
}

// FuzzCUEPolicy: any policy text either fails to compile with ErrInvalidPolicy or evaluates
// a statement to a pass, a *PolicyError, or an error, without panicking.
func FuzzCUEPolicy(f *testing.F) {
	for _, name := range []string{"policy-spdx.cue", "policy-forbid-musl.cue"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attest", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`predicate: {`))
	f.Add([]byte(`import "list"` + "\n" + `predicate: packages: list.MinItems(1)`))
	statement, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attest", "sbom.spdx.json"))
	if err != nil {
		f.Fatal(err)
	}
	statement = append(append([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://spdx.dev/Document","predicate":`), statement...), '}')
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := CompileCUEPolicy("fuzz.cue", src)
		if err != nil {
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("compile error %v is not ErrInvalidPolicy", err)
			}
			return
		}
		_ = p.Evaluate(context.Background(), statement)
	})
}
