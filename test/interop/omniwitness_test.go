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

	env := append(os.Environ(), "COSIGN_PASSWORD=omni", "COSIGN_LIKE_WITNESS_POLICY=", "COSIGN_LIKE_TRUSTED_ROOT=")
	prefix := filepath.Join(dir, "release")
	run(t, env, ourBinary, "generate-key-pair", "--output-key-prefix", prefix)
	blob := writeFile(t, dir, "notes.txt", []byte("release notes\n"))
	bundle := filepath.Join(dir, "notes.sigstore.json")
	run(t, env, ourBinary, "sign-blob", "-y", "--key", prefix+".key", "--rekor-url", logURL, "--bundle", bundle, blob)
	b, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "— "+omniwitnessName+" ") {
		t.Fatalf("the bundle's checkpoint has no cosignature line of %s:\n%s", omniwitnessName, b)
	}

	verify := []string{"verify-blob", "--key", prefix + ".pub", "--trusted-root", filepath.Join(logDir, logserver.TrustedRootFile), "--bundle", bundle, blob}
	run(t, env, ourBinary, append(verify, "--witness-policy", policy)...)

	absentDir := filepath.Join(dir, "absent")
	run(t, nil, ourBinary, "witness", "init", "--dir", absentDir, "--name", "absent.cosign-like.test/w2")
	absentVKey, err := os.ReadFile(filepath.Join(absentDir, witness.VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	stricter := writeFile(t, dir, "stricter_policy.txt", []byte(policyLines+
		fmt.Sprintf("witness absent %s\ngroup both all omni absent\nquorum both\n", strings.TrimSpace(string(absentVKey)))))
	refuse(t, env, `witness quorum not met: quorum "both" needs more than the cosignatures of [omni]`,
		ourBinary, append(verify, "--witness-policy", stricter)...)
}
