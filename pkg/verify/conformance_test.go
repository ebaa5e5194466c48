package verify_test

import (
	"bufio"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// conformanceDir is the sigstore-conformance data, beside the repository.
const conformanceDir = "../../../shared/conformance"

const (
	conformanceIdentity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	conformanceIssuer   = "https://token.actions.githubusercontent.com"
)

type conformanceCase struct {
	dir        string
	expectPass bool
}

func loadConformanceIndex(t *testing.T) []conformanceCase {
	t.Helper()
	f, err := os.Open(filepath.Join(conformanceDir, "INDEX.txt"))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("conformance data missing: %v", err)
		}
		t.Skipf("conformance data not found: %v", err)
	}
	defer f.Close()
	var cases []conformanceCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 2 {
			t.Fatalf("INDEX.txt line %q: want tab-separated columns", line)
		}
		cases = append(cases, conformanceCase{dir: cols[0], expectPass: cols[1] == "PASS"})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func readOptional(t *testing.T, path string) (string, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b)), true
}

// runConformanceCase verifies one case the way the suite's client protocol does.
func runConformanceCase(t *testing.T, dir string, useDigest bool) error {
	t.Helper()
	caseDir := filepath.Join(conformanceDir, dir)
	data, err := os.ReadFile(filepath.Join(caseDir, "bundle.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	rootPath := filepath.Join(caseDir, "trusted_root.json")
	if _, err := os.Stat(rootPath); err != nil {
		rootPath = filepath.Join(conformanceDir, "public-good", "production", "trusted_root.json")
	}
	artifactPath := filepath.Join(caseDir, "artifact")
	if _, err := os.Stat(artifactPath); err != nil {
		artifactPath = filepath.Join(conformanceDir, "a.txt")
	}
	artifactBytes, err := os.ReadFile(artifactPath)
	if err != nil {
		t.Fatal(err)
	}

	var policy verify.Policy
	if keyPEM, ok := readOptional(t, filepath.Join(caseDir, "key.pub")); ok {
		// A key that does not parse is the client refusing the case.
		block, _ := pem.Decode([]byte(keyPEM))
		if block == nil {
			return errors.New("key.pub is not PEM")
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return err
		}
		policy.Key = pub
	} else {
		id := &verify.Identity{Subject: conformanceIdentity, Issuer: conformanceIssuer}
		if s, ok := readOptional(t, filepath.Join(caseDir, "identity")); ok {
			id.Subject = s
		}
		if s, ok := readOptional(t, filepath.Join(caseDir, "issuer")); ok {
			id.Issuer = s
		}
		policy.Identity = id
	}

	// Everything from here is what the client under test does with untrusted input.
	trusted, err := root.LoadTrustedRoot(rootPath)
	if err != nil {
		return err
	}
	b, err := bundle.Parse(data)
	if err != nil {
		return err
	}
	artifact := verify.ArtifactBytes(artifactBytes)
	if useDigest {
		sum := sha256.Sum256(artifactBytes)
		artifact, err = verify.ParseArtifactDigest("sha256:" + hex.EncodeToString(sum[:]))
		if err != nil {
			t.Fatal(err)
		}
	}
	v, err := verify.New(trusted)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(b, artifact, policy)
	return err
}

// TestConformance runs every sigstore-conformance bundle-verification case twice, with the
// artifact's bytes and with its sha256 digest, and checks the expected outcome.
func TestConformance(t *testing.T) {
	cases := loadConformanceIndex(t)
	if len(cases) != 70 {
		t.Errorf("INDEX.txt lists %d cases, want 70", len(cases))
	}
	right := 0
	for _, c := range cases {
		for _, mode := range []string{"artifact", "digest"} {
			t.Run(filepath.Base(c.dir)+"/"+mode, func(t *testing.T) {
				err := runConformanceCase(t, c.dir, mode == "digest")
				switch {
				case c.expectPass && err != nil:
					t.Errorf("want PASS, got: %v", err)
				case !c.expectPass && err == nil:
					t.Errorf("want FAIL, the bundle verified")
				default:
					right++
					if err != nil {
						t.Logf("refused as expected: %v", err)
					}
				}
			})
		}
	}
	t.Logf("conformance: %d/%d parametrizations right", right, 2*len(cases))
}
