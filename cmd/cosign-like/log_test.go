package main

import (
	"bytes"
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
	"time"

	bundlev1 "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	commonv1 "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/internal/testutil/testservers"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tlog/logserver"
)

func runLogCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(""))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String() + errOut.String(), err
}

// startLogServer runs `log init` for a free loopback port and serves the log there in-process
// until the test ends.
func startLogServer(t *testing.T) (dir, url string) {
	t.Helper()
	l := testservers.StartLog(t, testservers.WithLogInit(func(dir, url string) error {
		if out, err := runLogCmd(t, "log", "init", "--dir", dir, "--url", url); err != nil || !strings.Contains(out, "origin: 127.0.0.1") {
			return fmt.Errorf("log init: %v\n%s", err, out)
		}
		return nil
	}))
	return l.Dir, l.URL
}

func TestLogCommands(t *testing.T) {
	dir, url := startLogServer(t)
	ctx := context.Background()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	pubPath := filepath.Join(t.TempDir(), "cosign.pub")
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	var last *rekorv1.TransparencyLogEntry
	var lastSig []byte
	var lastDigest [32]byte
	for i := range 3 {
		lastDigest = sha256.Sum256([]byte(fmt.Sprint("artifact ", i)))
		lastSig, _ = ecdsa.SignASN1(rand.Reader, k, lastDigest[:])
		req, err := tlog.NewHashedRekordRequest(lastSig, lastDigest[:], crypto.SHA256, der, false)
		if err != nil {
			t.Fatal(err)
		}
		if last, err = logclient.Submit(ctx, url, req); err != nil {
			t.Fatal(err)
		}
	}
	tr := filepath.Join(dir, logserver.TrustedRootFile)
	state := t.TempDir()
	common := []string{"--rekor-url", url, "--trusted-root", tr, "--state-dir", state}

	out, err := runLogCmd(t, append([]string{"log", "info"}, common...)...)
	if err != nil || !strings.Contains(out, "tree size: 3") || !strings.Contains(out, "origin:    127.0.0.1") {
		t.Fatalf("log info: %v\n%s", err, out)
	}
	out, err = runLogCmd(t, append([]string{"log", "get", "--index", "1", "-o", "json"}, common...)...)
	var got rekorv1.TransparencyLogEntry
	if err != nil || protojson.Unmarshal([]byte(out), &got) != nil || got.LogIndex != 1 || len(got.CanonicalizedBody) == 0 {
		t.Fatalf("log get -o json: %v\n%s", err, out)
	}
	out, err = runLogCmd(t, append([]string{"log", "get", "--index", "2", "--log-key", filepath.Join(dir, logserver.PublicKeyFile)}, "--rekor-url", url, "--state-dir", state)...)
	if err != nil || !strings.Contains(out, "PKIX_ECDSA_P256_SHA_256") || !strings.Contains(out, "inclusion proof: verified") {
		t.Fatalf("log get: %v\n%s", err, out)
	}
	out, err = runLogCmd(t, append([]string{"log", "monitor", "--key", pubPath}, common...)...)
	if err != nil || strings.Count(out, "\tkey\t") != 3 {
		t.Fatalf("log monitor: %v\n%s", err, out)
	}

	b, err := protojson.Marshal(&bundlev1.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &bundlev1.VerificationMaterial{
			Content:     &bundlev1.VerificationMaterial_PublicKey{PublicKey: &commonv1.PublicKeyIdentifier{Hint: "k"}},
			TlogEntries: []*rekorv1.TransparencyLogEntry{last},
		},
		Content: &bundlev1.Bundle_MessageSignature{MessageSignature: &commonv1.MessageSignature{
			MessageDigest: &commonv1.HashOutput{Algorithm: commonv1.HashAlgorithm_SHA2_256, Digest: lastDigest[:]},
			Signature:     lastSig,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bundlePath := filepath.Join(t.TempDir(), "x.sigstore.json")
	if err := os.WriteFile(bundlePath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = runLogCmd(t, append([]string{"log", "verify", "--bundle", bundlePath}, common...)...)
	if err != nil || !strings.Contains(out, "entry 2: inclusion proof verified") {
		t.Fatalf("log verify: %v\n%s", err, out)
	}

	// The stored checkpoint trails by up to the checkpoint interval; fsck checks what is stored.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, err = runLogCmd(t, "log", "fsck", "--dir", dir)
		if err == nil && strings.Contains(out, "ok: 3 entries") {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("log fsck: %v\n%s", err, out)
		}
	}

	otherDir := t.TempDir()
	if _, err := runLogCmd(t, "log", "init", "--dir", otherDir, "--url", url); err != nil {
		t.Fatal(err)
	}
	if out, err := runLogCmd(t, "log", "reindex", "--dir", otherDir); err != nil || !strings.Contains(out, "ok: 0 v1 entries indexed") {
		t.Fatalf("log reindex: %v\n%s", err, out)
	}
	failures := []struct {
		args []string
		want string
	}{
		{[]string{"log", "info", "--rekor-url", url, "--trusted-root", filepath.Join(otherDir, logserver.TrustedRootFile), "--state-dir", state}, "no signature from a trusted log key"},
		{[]string{"log", "info", "--rekor-url", url, "--state-dir", state}, "pass --trusted-root or --log-key"},
		{append([]string{"log", "get", "--index", "3"}, common...), "not found"},
		{append([]string{"log", "monitor"}, common...), "either --certificate-identity"},
		{append([]string{"log", "monitor", "--certificate-identity", "a@b"}, common...), "--certificate-oidc-issuer is required"},
		{[]string{"log", "init", "--dir", dir, "--url", url}, "refusing to replace the log key"},
		{[]string{"log", "init", "--dir", t.TempDir(), "--url", "ftp://x"}, "want http(s)"},
		{[]string{"log", "fsck", "--dir", t.TempDir()}, "not initialized"},
		{[]string{"log", "serve", "--dir", dir, "--log-format", "xml"}, "want text or json"},
		{[]string{"log", "reindex", "--dir", dir}, "locked by another process"},
		{[]string{"log", "reindex", "--dir", t.TempDir()}, "not initialized"},
	}
	for _, f := range failures {
		out, err := runLogCmd(t, f.args...)
		if err == nil || !strings.Contains(err.Error()+out, f.want) {
			t.Errorf("%v: got %v\n%s\nwant an error mentioning %q", f.args, err, out, f.want)
		}
	}
}
