package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/witness"
)

// The sigstore-conformance case rekor2-checkpoint-cosigned against our witness: `witness serve`
// follows the case's Rekor v2 log by the key its trusted root lists and cosigns the case's
// checkpoint (the log's signature checked, the unknown witness's line ignored); verify-bundle
// accepts the bundle with that cosignature added, as the case requires, and under a policy
// naming our witness, which the case's own bundle, without it, does not meet.
func TestConformanceCheckpointCosignedByOurWitness(t *testing.T) {
	caseDir := filepath.Join(conformanceData, "bundle-verify", "rekor2-checkpoint-cosigned")
	if _, err := os.Stat(caseDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("conformance data missing: %v", err)
		}
		t.Skipf("conformance data not found: %v", err)
	}
	trustedRoot := filepath.Join(caseDir, "trusted_root.json")
	var tr struct {
		Tlogs []struct {
			BaseURL   string `json:"baseUrl"`
			PublicKey struct {
				RawBytes   string `json:"rawBytes"`
				KeyDetails string `json:"keyDetails"`
			} `json:"publicKey"`
		} `json:"tlogs"`
	}
	raw, err := os.ReadFile(trustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &tr); err != nil {
		t.Fatal(err)
	}
	var logKey tlog.LogKey
	for _, l := range tr.Tlogs {
		if l.PublicKey.KeyDetails == "PKIX_ED25519" {
			der, err := base64.StdEncoding.DecodeString(l.PublicKey.RawBytes)
			if err != nil {
				t.Fatal(err)
			}
			if logKey, err = tlog.LogKeyFromPKIX(l.BaseURL, der); err != nil {
				t.Fatal(err)
			}
		}
	}
	logVKey, err := logKey.VerifierKey()
	if err != nil {
		t.Fatalf("the case's Rekor v2 log key: %v", err)
	}

	dir := t.TempDir()
	wDir := filepath.Join(dir, "witness")
	if out, err := runLogCmd(t, "witness", "init", "--dir", wDir, "--name", "witness.cosign-like.test/conformance", "--log", logVKey.String()); err != nil {
		t.Fatalf("witness init: %v\n%s", err, out)
	}
	wURL, _ := runServerCmd(t, "witness", "serve", "--dir", wDir)
	wVKey, err := os.ReadFile(filepath.Join(wDir, witness.VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}

	bundleJSON, err := os.ReadFile(filepath.Join(caseDir, "bundle.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The bundle is read as generic JSON so that only the checkpoint changes.
	var b map[string]any
	if err := json.Unmarshal(bundleJSON, &b); err != nil {
		t.Fatal(err)
	}
	cpField := b["verificationMaterial"].(map[string]any)["tlogEntries"].([]any)[0].(map[string]any)["inclusionProof"].(map[string]any)["checkpoint"].(map[string]any)
	envelope := cpField["envelope"].(string)
	cpField["envelope"] = envelope + string(addCheckpoint(t, wURL, []byte(envelope)))
	cosigned, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	ours := filepath.Join(dir, "cosigned.sigstore.json")
	if err := os.WriteFile(ours, cosigned, 0o644); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "policy.txt")
	if err := os.WriteFile(policy, []byte("log "+logVKey.String()+"\nwitness ours "+strings.TrimSpace(string(wVKey))+"\nquorum ours\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	const (
		identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
		issuer   = "https://token.actions.githubusercontent.com"
	)
	args := func(bundle string, extra ...string) []string {
		return append([]string{"--bundle", bundle, "--certificate-identity", identity, "--certificate-oidc-issuer", issuer,
			"--trusted-root", trustedRoot, filepath.Join(conformanceData, "a.txt")}, extra...)
	}
	if out, err := runVerifyBundleCmd(t, args(ours)...); err != nil {
		t.Fatalf("verify-bundle of the case cosigned by our witness: %v\n%s", err, out)
	}
	if out, err := runVerifyBundleCmd(t, args(ours, "--witness-policy", policy)...); err != nil {
		t.Fatalf("verify-bundle --witness-policy naming our witness: %v\n%s", err, out)
	}
	out, err := runVerifyBundleCmd(t, args(filepath.Join(caseDir, "bundle.sigstore.json"), "--witness-policy", policy)...)
	if err == nil || !strings.Contains(err.Error()+out, `witness quorum not met`) {
		t.Fatalf("verify-bundle --witness-policy of the case's own bundle: %v\n%s\nwant the quorum not met", err, out)
	}
}
