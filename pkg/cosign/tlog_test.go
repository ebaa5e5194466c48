package cosign

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/internal/testutil/testservers"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// startLog runs a real log server on 127.0.0.1 and returns its URL, its trusted root and its
// key.
func startLog(t *testing.T) (string, *root.TrustedRoot, []tlog.LogKey) {
	t.Helper()
	l := testservers.StartLog(t)
	return l.URL, testservers.TrustedRoot(t, l.TrustedRootPart), []tlog.LogKey{l.Key}
}

func TestSignWithLogEntryVerifies(t *testing.T) {
	ctx := context.Background()
	logURL, tr, keys := startLog(t)
	host, _ := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "test/logged")
	s := newSigner(t)
	w := &BundleOptions{RekorURL: logURL, LogKeys: keys, StateDir: t.TempDir()}
	if _, err := SignImage(ctx, img.String(), SignOptions{Signer: s, BundleOptions: w}); err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(tr)
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyImage(ctx, img.String(), VerifyOptions{Verifier: v, Policy: verify.Policy{Key: s.Public()}})
	if err != nil {
		t.Fatalf("verify with the log's trusted root: %v", err)
	}
	if len(got) != 1 || len(got[0].Result.TlogEntries) != 1 {
		t.Fatalf("verified %+v, want one signature with one log entry", got)
	}

	// The same signature under a trusted root that lists another log fails.
	_, otherRoot, _ := startLog(t)
	v2, _ := verify.New(otherRoot)
	_, err = VerifyImage(ctx, img.String(), VerifyOptions{Verifier: v2, Policy: verify.Policy{Key: s.Public()}})
	if !errors.Is(err, ErrNoValidSignature) || !strings.Contains(err.Error(), "log") {
		t.Fatalf("verify under another log's root: err = %v", err)
	}
}

func TestSignBlobWithLogEntryVerifies(t *testing.T) {
	ctx := context.Background()
	logURL, tr, keys := startLog(t)
	s := newSigner(t)
	data := []byte("logged blob")
	b, err := SignBlob(ctx, bytes.NewReader(data), s, &BundleOptions{RekorURL: logURL, LogKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := verify.New(tr)
	if _, err := VerifyBlob(bytes.NewReader(data), roundTrip(t, b), v, verify.Policy{Key: s.Public()}); err != nil {
		t.Fatal(err)
	}
}

func TestLegacyLayoutRefusesLogEntry(t *testing.T) {
	host, _ := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "test/legacylog")
	_, err := SignImage(context.Background(), img.String(), SignOptions{Signer: newSigner(t), Legacy: true, BundleOptions: &BundleOptions{RekorURL: "http://127.0.0.1:1"}})
	if !errors.Is(err, ErrLegacyNoLog) {
		t.Fatalf("err = %v, want ErrLegacyNoLog", err)
	}
}
