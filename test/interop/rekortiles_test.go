package interop

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logserver"
	"github.com/cosign-like/cosign-like/pkg/witness"
)

// rekorTilesWitnessName is the key name of our witness in the rekor-tiles test.
const rekorTilesWitnessName = "witness.cosign-like.test/rekor-tiles"

// TestRekorTilesCosignedByOurWitness: sigstore's rekor-tiles (POSIX storage, pinned in
// peers.sh) signs its checkpoints with an Ed25519 key that `log init` made for its URL, and
// submits each one to our witness (`witness serve`, following that key) under its
// --witness-policy-path; the checkpoint it publishes and the one in the entry it returns to
// `sign-blob` carry our witness's cosignature, and `verify-blob --witness-policy` accepts the
// bundle under the trusted root `log init` wrote, as `verify-bundle` (the sigstore-conformance
// client protocol) does without the policy.
func TestRekorTilesCosignedByOurWitness(t *testing.T) {
	rekorTiles := peer(t, "rekor-tiles")
	dir := t.TempDir()
	httpAddr, grpcAddr, metricsAddr, witnessAddr := testutil.FreeAddr(t), testutil.FreeAddr(t), testutil.FreeAddr(t), testutil.FreeAddr(t)
	logURL, witnessURL := "http://"+httpAddr, "http://"+witnessAddr

	// log init makes what rekor-tiles needs for witnessing: an Ed25519 key (PKCS#8 PEM), named
	// by the hostname of its URL, and the trusted root listing the log with that key ID.
	keyDir := filepath.Join(dir, "rekor-tiles")
	run(t, nil, ourBinary, "log", "init", "--dir", keyDir, "--url", logURL)
	wdir := filepath.Join(dir, "witness")
	run(t, nil, ourBinary, "witness", "init", "--dir", wdir, "--name", rekorTilesWitnessName,
		"--log-key", filepath.Join(keyDir, logserver.PublicKeyFile), "--log-url", logURL)
	startProcess(t, witnessAddr, ourBinary, "witness", "serve", "--dir", wdir, "--addr", witnessAddr)
	cfg, err := witness.LoadConfig(wdir)
	if err != nil {
		t.Fatal(err)
	}
	witnessVKey, err := os.ReadFile(filepath.Join(wdir, witness.VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	witnessLines := "witness w1 " + strings.TrimSpace(string(witnessVKey)) + " " + witnessURL + "\nquorum w1\n"
	submitPolicy := writeFile(t, dir, "rekor-tiles-witnesses.txt", []byte(witnessLines))

	origin, _, _ := strings.Cut(cfg.Logs[0].VerifierKey, "+")
	port := func(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
	store := filepath.Join(dir, "store")
	startProcess(t, httpAddr, rekorTiles, "serve", "--hostname", origin, "--storage-dir", store,
		"--signer-filepath", filepath.Join(keyDir, logserver.PrivateKeyFile),
		"--http-address", "127.0.0.1", "--http-port", port(httpAddr),
		"--grpc-address", "127.0.0.1", "--grpc-port", port(grpcAddr), "--http-metrics-port", port(metricsAddr),
		"--checkpoint-interval", "500ms", "--witness-policy-path", submitPolicy)

	signed := signBlobThrough(t, dir, logURL)
	if !strings.Contains(string(signed.bundleJSON), "— "+rekorTilesWitnessName+" ") {
		t.Fatalf("the checkpoint rekor-tiles returned has no cosignature line of %s:\n%s", rekorTilesWitnessName, signed.bundleJSON)
	}

	// The checkpoint rekor-tiles publishes meets the policy naming the log and our witness.
	policyText := []byte("log " + cfg.Logs[0].VerifierKey + " " + logURL + "\n" + witnessLines)
	policy, err := tlog.ParseWitnessPolicy(policyText)
	if err != nil {
		t.Fatal(err)
	}
	published, err := os.ReadFile(filepath.Join(store, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	if cp, err := policy.VerifyCheckpoint(published); err != nil || cp.Size == 0 {
		t.Fatalf("rekor-tiles' published checkpoint under the policy: %v, %v\n%s", cp, err, published)
	}

	policyPath := writeFile(t, dir, "policy.txt", policyText)
	// rekor-tiles serves no read API (its tiles are files for a web server to serve), so the
	// verification is offline: the bundle's checkpoint carries the cosignatures.
	verify := []string{"verify-blob", "--offline", "--key", signed.pub, "--trusted-root", filepath.Join(keyDir, logserver.TrustedRootFile), "--bundle", signed.bundle, signed.blob}
	run(t, signed.env, ourBinary, append(verify, "--witness-policy", policyPath)...)

	// The sigstore-conformance case rekor2-checkpoint-cosigned, on this bundle: a Rekor v2
	// entry whose checkpoint carries a cosignature by a witness the client was given no key for
	// verifies under the suite's client protocol (verify-bundle), the line ignored.
	run(t, signed.env, ourBinary, "verify-bundle", "--bundle", signed.bundle, "--key", signed.pub,
		"--trusted-root", filepath.Join(keyDir, logserver.TrustedRootFile), signed.blob)

	stricter := writeFile(t, dir, "stricter_policy.txt", []byte(strings.TrimSuffix(string(policyText), "quorum w1\n")+absentWitnessLines(t, dir, "w1")))
	refuse(t, signed.env, `witness quorum not met: quorum "both" needs more than the cosignatures of [w1]`,
		ourBinary, append(verify, "--witness-policy", stricter)...)
}
