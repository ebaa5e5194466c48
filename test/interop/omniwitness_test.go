package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog/logserver"
	"github.com/cosign-like/cosign-like/pkg/witness"
)

// omniwitnessName is the key name of the omniwitness the test runs.
const omniwitnessName = "omni.cosign-like.test/w1"

// TestOmniwitnessCosignsOurLog: transparency-dev's omniwitness follows a log that `log init`
// made, `log serve --witness-policy` submits each checkpoint to its add-checkpoint endpoint and
// publishes the checkpoint with its cosignature, and `verify-blob --witness-policy` accepts a
// bundle signed through that log under a policy naming the omniwitness, and refuses it under a
// policy whose quorum also needs a witness that never cosigned.
func TestOmniwitnessCosignsOurLog(t *testing.T) {
	omni := peer(t, "omniwitness")
	dir := t.TempDir()
	logAddr, omniAddr := testutil.FreeAddr(t), testutil.FreeAddr(t)
	logURL, omniURL := "http://"+logAddr, "http://"+omniAddr

	logDir := filepath.Join(dir, "log")
	run(t, nil, ourBinary, "log", "init", "--dir", logDir, "--url", logURL)
	// witness init writes an Ed25519 key in the signed-note form omniwitness reads, its
	// cosignature/v1 verifier key, and the log's note verifier key.
	keyDir := filepath.Join(dir, "omni")
	run(t, nil, ourBinary, "witness", "init", "--dir", keyDir, "--name", omniwitnessName,
		"--log-key", filepath.Join(logDir, logserver.PublicKeyFile), "--log-url", logURL)
	cfg, err := witness.LoadConfig(keyDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Logs) != 1 {
		t.Fatalf("witness init followed %d logs, want 1", len(cfg.Logs))
	}
	logVKey := cfg.Logs[0].VerifierKey
	origin, _, _ := strings.Cut(logVKey, "+")
	omniVKey, err := os.ReadFile(filepath.Join(keyDir, witness.VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}

	logsYAML := writeFile(t, dir, "logs.yaml", []byte(fmt.Sprintf("Logs:\n  - Origin: %q\n    URL: %s\n    PublicKey: %s\n", origin, logURL, logVKey)))
	startProcess(t, omniAddr, omni, "--listen", omniAddr, "--metrics_listen", "",
		"--private_key_path", filepath.Join(keyDir, witness.PrivateKeyFile),
		"--additional_logs", logsYAML, "--db_file", filepath.Join(dir, "omniwitness.db"))

	policyLines := fmt.Sprintf("log %s %s\nwitness omni %s %s\n", logVKey, logURL, strings.TrimSpace(string(omniVKey)), omniURL)
	policy := writeFile(t, dir, "policy.txt", []byte(policyLines+"quorum omni\n"))
	startProcess(t, logAddr, ourBinary, "log", "serve", "--dir", logDir, "--addr", logAddr,
		"--witness-policy", policy, "--checkpoint-interval", "100ms")

	signed := signBlobThrough(t, dir, logURL)
	if !strings.Contains(string(signed.bundleJSON), "— "+omniwitnessName+" ") {
		t.Fatalf("the bundle's checkpoint has no cosignature line of %s:\n%s", omniwitnessName, signed.bundleJSON)
	}

	verify := []string{"verify-blob", "--key", signed.pub, "--trusted-root", filepath.Join(logDir, logserver.TrustedRootFile), "--bundle", signed.bundle, signed.blob}
	run(t, signed.env, ourBinary, append(verify, "--witness-policy", policy)...)

	stricter := writeFile(t, dir, "stricter_policy.txt", []byte(policyLines+absentWitnessLines(t, dir, "omni")))
	refuse(t, signed.env, `witness quorum not met: quorum "both" needs more than the cosignatures of [omni]`,
		ourBinary, append(verify, "--witness-policy", stricter)...)
}
