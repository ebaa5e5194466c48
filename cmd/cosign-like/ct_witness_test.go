package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/witness"
)

// ct serve --witness-policy, as a user runs it: the witness follows the CT log by the ct.vkey
// that ct init wrote, and the CT log's /checkpoint carries its cosignature; a policy that cannot
// be read or parsed stops ct serve with a message naming it.
func TestCTServeWitnessed(t *testing.T) {
	dir := t.TempDir()
	ctDir, wDir := filepath.Join(dir, "ct"), filepath.Join(dir, "witness")
	if out, err := runLogCmd(t, "ct", "init", "--dir", ctDir, "--url", "http://ct.example.com"); err != nil {
		t.Fatalf("ct init: %v\n%s", err, out)
	}
	ctVKey, err := os.ReadFile(filepath.Join(ctDir, ctlog.VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runLogCmd(t, "witness", "init", "--dir", wDir, "--name", "witness.example.com/ct",
		"--log", strings.TrimSpace(string(ctVKey))); err != nil || !strings.Contains(out, "following 1 log(s)") {
		t.Fatalf("witness init --log $(cat ct.vkey): %v\n%s", err, out)
	}
	wURL, stopWitness := runServerCmd(t, "witness", "serve", "--dir", wDir)
	wVKey, err := os.ReadFile(filepath.Join(wDir, witness.VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	policyText := "log " + strings.TrimSpace(string(ctVKey)) + "\nwitness w1 " + strings.TrimSpace(string(wVKey)) + " " + wURL + "\nquorum w1\n"
	policyPath := filepath.Join(dir, "policy.txt")
	if err := os.WriteFile(policyPath, []byte(policyText), 0o644); err != nil {
		t.Fatal(err)
	}
	policy, err := tlog.ParseWitnessPolicy([]byte(policyText))
	if err != nil {
		t.Fatal(err)
	}
	ctURL, stopCT := runServerCmd(t, "ct", "serve", "--dir", ctDir, "--witness-policy", policyPath, "--witness-timeout", "2s")
	resp, err := http.Get(ctURL + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	cp, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := policy.VerifyCheckpoint(cp); err != nil {
		t.Fatalf("the CT log's checkpoint under the policy: %v\n%s", err, cp)
	}
	// The CT log stops first: it publishes what it holds to the witness on the way.
	if err := stopCT(); err != nil {
		t.Fatalf("ct serve: %v", err)
	}
	if err := stopWitness(); err != nil {
		t.Fatalf("witness serve: %v", err)
	}

	malformed := filepath.Join(dir, "malformed.txt")
	if err := os.WriteFile(malformed, []byte("quorum w1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		policy, want string
	}{
		{filepath.Join(dir, "missing.txt"), "ct serve: reading witness policy"},
		{malformed, "malformed witness policy: line 1"},
	} {
		out, err := runLogCmd(t, "ct", "serve", "--dir", ctDir, "--addr", "127.0.0.1:0", "--witness-policy", f.policy)
		if err == nil || !strings.Contains(err.Error()+out, f.want) {
			t.Errorf("ct serve --witness-policy %s: %v\n%s\nwant %q", f.policy, err, out, f.want)
		}
	}
}
