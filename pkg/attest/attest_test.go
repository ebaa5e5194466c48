package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

const testDigest = "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf"

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attest", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestPredicateType(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"slsaprovenance", "https://slsa.dev/provenance/v0.2", ""},
		{"slsaprovenance02", "https://slsa.dev/provenance/v0.2", ""},
		{"slsaprovenance1", "https://slsa.dev/provenance/v1", ""},
		{"link", "https://in-toto.io/Link/v1", ""},
		{"spdx", "https://spdx.dev/Document", ""},
		{"spdxjson", "https://spdx.dev/Document", ""},
		{"cyclonedx", "https://cyclonedx.org/bom", ""},
		{"vuln", "https://cosign.sigstore.dev/attestation/vuln/v1", ""},
		{"openvex", "https://openvex.dev/ns", ""},
		{"custom", "https://cosign.sigstore.dev/attestation/v1", ""},
		{"https://example.com/predicate/v1", "https://example.com/predicate/v1", ""},
		{"urn:example:predicate", "urn:example:predicate", ""},
		{"spdxjosn", "", "unknown predicate type \"spdxjosn\""},
		{"", "", "empty"},
		{"https://exa mple.com/x", "", "unknown predicate type"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := PredicateType(tt.in)
			if tt.err != "" {
				if !errors.Is(err, ErrUnknownType) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("PredicateType(%q) error %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("PredicateType(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestBuildPredicateSamples(t *testing.T) {
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	tests := []struct{ typ, file string }{
		{"spdxjson", "sbom.spdx.json"},
		{"spdx", "sbom.spdx.json"},
		{"spdxjson", "sbom.npm.spdx.json"},
		{"cyclonedx", "sbom.cdx.json"},
		{"cyclonedx", "sbom.cyclonedx-npm.cdx.json"},
		{"slsaprovenance1", "provenance.slsa1.json"},
		{"slsaprovenance", "provenance.slsa02.json"},
		{"slsaprovenance02", "provenance.slsa02.json"},
		{"link", "link.json"},
		{"vuln", "vuln.json"},
		{"openvex", "openvex.json"},
		{"custom", "custom.txt"},
		{"https://example.com/any/v1", "vuln.json"},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			uri, err := PredicateType(tt.typ)
			if err != nil {
				t.Fatal(err)
			}
			raw := readTestdata(t, tt.file)
			pred, err := BuildPredicate(uri, raw, now)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckPredicate(uri, pred); err != nil {
				t.Fatalf("built predicate does not check: %v", err)
			}
			st, err := NewStatement([]Subject{{Name: "registry.example.com/app", SHA256: testDigest}}, uri, pred)
			if err != nil {
				t.Fatal(err)
			}
			info, err := ParseStatementInfo(st)
			if err != nil {
				t.Fatalf("statement does not parse: %v\n%s", err, st)
			}
			if info.PredicateType != uri {
				t.Fatalf("predicateType %q, want %q", info.PredicateType, uri)
			}
			if err := info.RequireSubject(testDigest); err != nil {
				t.Fatal(err)
			}
			if tt.typ == "custom" {
				var c struct{ Data, Timestamp string }
				if err := json.Unmarshal(info.Predicate, &c); err != nil || c.Data != string(raw) || c.Timestamp != "2026-01-15T10:00:00Z" {
					t.Fatalf("custom predicate %s (%v)", info.Predicate, err)
				}
			}
		})
	}
}

func TestStatementBytes(t *testing.T) {
	st, err := NewStatement([]Subject{{Name: "r.example/app", SHA256: testDigest}}, PredicateCycloneDX, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","x":"<&>"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"r.example/app","digest":{"sha256":"` + testDigest +
		`"}}],"predicateType":"https://cyclonedx.org/bom","predicate":{"bomFormat":"CycloneDX","specVersion":"1.5","x":"<&>"}}`
	if string(st) != want {
		t.Fatalf("statement\n got %s\nwant %s", st, want)
	}
	if _, err := bundle.ParseStatement(st); err != nil {
		t.Fatal(err)
	}
}

func TestPredicateRejects(t *testing.T) {
	spdx := string(readTestdata(t, "sbom.spdx.json"))
	tests := []struct {
		name, typ, pred, want string
	}{
		{"spdx without version", PredicateSPDX, `{"SPDXID":"SPDXRef-DOCUMENT","name":"x","creationInfo":{}}`, "spdxVersion \"\""},
		{"cyclonedx as spdx", PredicateSPDX, string(readTestdata(t, "sbom.cdx.json")), "is this an SPDX JSON document"},
		{"spdx as cyclonedx", PredicateCycloneDX, spdx, "bomFormat \"\""},
		{"spdx no creationInfo", PredicateSPDX, `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x"}`, "creationInfo"},
		{"spdx version number", PredicateSPDX, `{"spdxVersion":2.3}`, "field spdxVersion"},
		{"cyclonedx no spec", PredicateCycloneDX, `{"bomFormat":"CycloneDX"}`, "specVersion"},
		{"slsa1 v0.2 document", PredicateSLSAProvenance1, string(readTestdata(t, "provenance.slsa02.json")), "buildDefinition is missing"},
		{"slsa1 no builder", PredicateSLSAProvenance1, `{"buildDefinition":{"buildType":"x","externalParameters":{}},"runDetails":{}}`, "runDetails.builder"},
		{"slsa1 no externalParameters", PredicateSLSAProvenance1, `{"buildDefinition":{"buildType":"x"},"runDetails":{"builder":{"id":"b"}}}`, "externalParameters"},
		{"slsa02 v1 document", PredicateSLSAProvenance02, string(readTestdata(t, "provenance.slsa1.json")), "builder is missing"},
		{"slsa02 no buildType", PredicateSLSAProvenance02, `{"builder":{"id":"b"}}`, "buildType"},
		{"link wrong type", PredicateLink, `{"_type":"layout","name":"x"}`, "_type \"layout\""},
		{"vuln no scanner", PredicateVuln, `{"metadata":{}}`, "scanner is missing"},
		{"vuln bad time", PredicateVuln, `{"scanner":{"uri":"u"},"metadata":{"scanStartedOn":"yesterday"}}`, "yesterday"},
		{"openvex wrong context", PredicateOpenVEX, `{"@context":"https://example.com","statements":[]}`, "@context"},
		{"openvex no statements", PredicateOpenVEX, `{"@context":"https://openvex.dev/ns/v0.2.0"}`, "statements"},
		{"custom no data", PredicateCustom, `{"Timestamp":"2026-01-01T00:00:00Z"}`, "Data"},
		{"array", "https://example.com/p", `[1,2]`, "not a JSON object"},
		{"truncated", PredicateSPDX, spdx[:100], "not valid JSON"},
		{"empty", PredicateCycloneDX, ``, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPredicate(tt.typ, []byte(tt.pred))
			if !errors.Is(err, ErrInvalidPredicate) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckPredicate error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestBuildPredicateRejects(t *testing.T) {
	if _, err := BuildPredicate(PredicateSPDX, []byte("SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n"), time.Now()); !errors.Is(err, ErrInvalidPredicate) || !errors.Is(err, ErrSPDXTagValue) || !strings.Contains(err.Error(), "tag-value") {
		t.Fatalf("tag-value SPDX: %v", err)
	}
	if _, err := BuildPredicate(PredicateCustom, []byte{0xff, 0xfe}, time.Now()); !errors.Is(err, ErrInvalidPredicate) || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("binary custom predicate: %v", err)
	}
}

func TestStatementRejects(t *testing.T) {
	pred := []byte(`{"a":1}`)
	if _, err := NewStatement(nil, PredicateCustom, pred); err == nil || !strings.Contains(err.Error(), "no subject") {
		t.Fatalf("no subject: %v", err)
	}
	if _, err := NewStatement([]Subject{{Name: "x", SHA256: "ABCD"}}, "https://e.com/p", pred); err == nil || !strings.Contains(err.Error(), "64 lowercase hex") {
		t.Fatalf("bad digest: %v", err)
	}
	if _, err := NewStatement([]Subject{{Name: "x", SHA256: testDigest}}, "https://e.com/p", []byte(`"s"`)); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Fatalf("string predicate: %v", err)
	}
	st, err := NewStatement([]Subject{{Name: "x", SHA256: testDigest}}, "https://e.com/p", pred)
	if err != nil {
		t.Fatal(err)
	}
	info, err := ParseStatementInfo(st)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Repeat("0", 64)
	if err := info.RequireSubject(other); !errors.Is(err, ErrSubjectMismatch) || !strings.Contains(err.Error(), "sha256:"+testDigest) {
		t.Fatalf("other subject: %v", err)
	}
	bad := bytes.Replace(st, []byte(`"a":1`), []byte(`"a":`), 1)
	if _, err := ParseStatementInfo(bad); !errors.Is(err, bundle.ErrInvalidStatement) {
		t.Fatalf("broken statement: %v", err)
	}
	wrongPred := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"` + testDigest + `"}}],"predicateType":"https://spdx.dev/Document","predicate":{"bomFormat":"CycloneDX"}}`)
	if _, err := ParseStatementInfo(wrongPred); !errors.Is(err, ErrInvalidPredicate) {
		t.Fatalf("statement whose predicate is not its type: %v", err)
	}
}

func TestReadBounded(t *testing.T) {
	data, err := ReadBounded(strings.NewReader("12345"), 5, "predicate")
	if err != nil || string(data) != "12345" {
		t.Fatalf("at the limit: %q, %v", data, err)
	}
	_, err = ReadBounded(strings.NewReader("123456"), 5, "predicate sbom.json")
	var se *SizeError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &se) || se.Limit != 5 || !strings.Contains(err.Error(), "limit of 5 bytes") || !strings.Contains(err.Error(), "sbom.json") {
		t.Fatalf("over the limit: %v", err)
	}
	path := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(path, []byte("123456"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, max := range []int64{5, 6} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		data, err := ReadBounded(f, max, "predicate p.json")
		f.Close()
		if max == 5 && (!errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "is 6 bytes, larger than the limit of 5")) {
			t.Fatalf("file over the limit: %v", err)
		}
		if max == 6 && (err != nil || string(data) != "123456") {
			t.Fatalf("file at the limit: %q, %v", data, err)
		}
	}
}
