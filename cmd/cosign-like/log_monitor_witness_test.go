package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil/testservers"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tlog/logserver"
	"github.com/cosign-like/cosign-like/pkg/witness"
)

// submitEntries logs n hashedrekord entries signed by k, over artifacts named by tag, and returns
// the checkpoint of the last one's inclusion proof.
func submitEntries(t *testing.T, url string, k *ecdsa.PrivateKey, n int, tag string) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	var cp []byte
	for i := range n {
		d := sha256.Sum256([]byte(fmt.Sprint(tag, i)))
		sig, err := ecdsa.SignASN1(rand.Reader, k, d[:])
		if err != nil {
			t.Fatal(err)
		}
		req, err := tlog.NewHashedRekordRequest(sig, d[:], crypto.SHA256, der, false)
		if err != nil {
			t.Fatal(err)
		}
		e, err := logclient.Submit(context.Background(), url, req)
		if err != nil {
			t.Fatal(err)
		}
		cp = []byte(e.GetInclusionProof().GetCheckpoint().GetEnvelope())
	}
	return cp
}

// TestLogMonitorWitnessPolicy: log monitor --witness-policy compares the log's checkpoint with
// the one our witness cosigned. A fork of the log (the same key and origin, other entries)
// whose checkpoint the witness cosigned passes, and the log, which the witness never saw, is
// refused as a fork naming the witness and both checkpoints.
func TestLogMonitorWitnessPolicy(t *testing.T) {
	logDir, logURL := startLogServer(t)
	fork := testservers.StartLog(t, testservers.WithLogInit(func(dir, _ string) error {
		for _, f := range []string{logserver.ConfigFile, logserver.PrivateKeyFile, logserver.PublicKeyFile, logserver.V1PrivateKeyFile, logserver.V1PublicKeyFile, logserver.TrustedRootFile} {
			data, err := os.ReadFile(filepath.Join(logDir, f))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
				return err
			}
		}
		return nil
	}))
	wdir := filepath.Join(t.TempDir(), "witness")
	logPub := filepath.Join(logDir, logserver.PublicKeyFile)
	if out, err := runLogCmd(t, "witness", "init", "--dir", wdir, "--name", "witness.example.com/w1", "--log-key", logPub, "--log-url", logURL); err != nil {
		t.Fatalf("witness init: %v\n%s", err, out)
	}
	witnessURL, _ := runServerCmd(t, "witness", "serve", "--dir", wdir)
	cfg, err := witness.LoadConfig(wdir)
	if err != nil {
		t.Fatal(err)
	}
	wvkey, err := os.ReadFile(filepath.Join(wdir, witness.VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(t.TempDir(), "policy.txt")
	if err := os.WriteFile(policy, fmt.Appendf(nil, "log %s\nwitness w1 %s %s\nquorum w1\n",
		cfg.Logs[0].VerifierKey, strings.TrimSpace(string(wvkey)), witnessURL), 0o644); err != nil {
		t.Fatal(err)
	}

	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	pubPath := filepath.Join(t.TempDir(), "cosign.pub")
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	forkCP := submitEntries(t, fork.URL, k, 2, "fork")
	addCheckpoint(t, witnessURL, forkCP)
	submitEntries(t, logURL, k, 3, "log")

	monitor := func(url string) (string, error) {
		return runLogCmd(t, "log", "monitor", "--key", pubPath, "--log-key", logPub, "--rekor-url", url,
			"--state-dir", t.TempDir(), "--witness-policy", policy)
	}
	out, err := monitor(fork.URL)
	if err != nil || !strings.Contains(out, "witness w1 ("+witnessURL+") cosigned checkpoint 127.0.0.1@2(") || strings.Count(out, "\tkey\t") != 2 {
		t.Fatalf("log monitor of the witnessed view: %v\n%s", err, out)
	}
	out, err = monitor(logURL)
	if err == nil || !strings.Contains(err.Error(), "LOG INCONSISTENCY") ||
		!strings.Contains(err.Error(), `fork: witness "w1" (`+witnessURL+`) cosigned checkpoint 127.0.0.1@2(`) ||
		!strings.Contains(err.Error(), "the log serves 127.0.0.1@3(") {
		t.Fatalf("log monitor of a view the witness never cosigned: %v\n%s", err, out)
	}
}
