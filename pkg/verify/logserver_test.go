package verify_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tsa"
	"github.com/cosign-like/cosign-like/pkg/verify"
	vs "github.com/cosign-like/cosign-like/pkg/verify/internal/virtualsigstore"
)

// startLogServer runs our Rekor v2 log server (Tessera on POSIX files) behind httptest and
// returns its URL and the trusted root part it wrote.
func startLogServer(t *testing.T) (string, *prototrustroot.TrustedRoot) {
	t.Helper()
	dir := t.TempDir()
	if _, err := tlog.Init(dir, "http://127.0.0.1:3003", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv, err := tlog.NewServer(ctx, tlog.ServerConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("closing log server: %v", err)
		}
	})
	data, err := os.ReadFile(filepath.Join(dir, tlog.TrustedRootFile))
	if err != nil {
		t.Fatal(err)
	}
	part := &prototrustroot.TrustedRoot{}
	if err := protojson.Unmarshal(data, part); err != nil {
		t.Fatal(err)
	}
	return hs.URL, part
}

// startTSA runs our RFC 3161 server behind httptest and returns its timestamp URL and the
// trusted root part its init wrote.
func startTSA(t *testing.T) (string, *prototrustroot.TrustedRoot) {
	t.Helper()
	dir := t.TempDir()
	if err := tsa.Init(context.Background(), dir, tsa.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	a, err := tsa.Load(context.Background(), dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(hs.Close)
	data, err := os.ReadFile(filepath.Join(dir, tsa.TrustedRootFile))
	if err != nil {
		t.Fatal(err)
	}
	part := &prototrustroot.TrustedRoot{}
	if err := protojson.Unmarshal(data, part); err != nil {
		t.Fatal(err)
	}
	return hs.URL + tsa.TimestampPath, part
}

// startCTLog runs our CT log behind httptest and returns its URL and the trusted root part its
// init wrote.
func startCTLog(t *testing.T) (string, *prototrustroot.TrustedRoot) {
	t.Helper()
	dir := t.TempDir()
	if err := ctlog.Init(dir, ctlog.InitOptions{URL: "http://127.0.0.1:3004"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l, err := ctlog.Open(ctx, dir, ctlog.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(l.Handler())
	t.Cleanup(func() {
		hs.Close()
		if err := l.Close(ctx); err != nil {
			t.Errorf("closing CT log: %v", err)
		}
	})
	data, err := os.ReadFile(filepath.Join(dir, ctlog.TrustedRootFile))
	if err != nil {
		t.Fatal(err)
	}
	part := &prototrustroot.TrustedRoot{}
	if err := protojson.Unmarshal(data, part); err != nil {
		t.Fatal(err)
	}
	return hs.URL, part
}

// TestOurServers signs keyless with the virtual CA whose precertificate goes to our real CT
// log, timestamps the signature with our real TSA and logs it in our real log server, all over
// HTTP, and verifies the bundle against a trusted root that merges the parts their init
// commands wrote.
func TestOurServers(t *testing.T) {
	w := newWorld(t)
	url, logPart := startLogServer(t)
	tsaURL, tsaPart := startTSA(t)
	ctURL, ctPart := startCTLog(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The trusted root: the world's CA, TSA and CT log, plus the log as its init wrote it.
	worldRoot := w.root
	worldRoot.Logs = nil
	worldRoot.TSAs = nil
	worldRoot.CTLogs = nil
	rootJSON := must[[]byte](t)(worldRoot.JSON())
	merged := &prototrustroot.TrustedRoot{}
	if err := protojson.Unmarshal(rootJSON, merged); err != nil {
		t.Fatal(err)
	}
	merged.Tlogs = logPart.GetTlogs()
	merged.TimestampAuthorities = tsaPart.GetTimestampAuthorities()
	merged.Ctlogs = ctPart.GetCtlogs()
	tr := must[*verify.TrustedRoot](t)(verify.ParseTrustedRoot(must[[]byte](t)(protojson.Marshal(merged))))
	if len(tr.CTLogs()) != 1 || len(tr.Tlogs()) != 1 || len(tr.TimestampAuthorities()) != 1 {
		t.Fatalf("merged trusted root: %d CT logs, %d logs, %d TSAs; want one each", len(tr.CTLogs()), len(tr.Tlogs()), len(tr.TimestampAuthorities()))
	}
	v := must[*verify.Verifier](t)(verify.New(tr))

	key := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	cert := must[*x509.Certificate](t)(w.ca.Issue(key.Public(), vs.CertOptions{
		Email: testEmail, NotBefore: w.now.Add(-time.Minute), NotAfter: w.now.Add(9 * time.Minute),
		Extensions: identityExtensions(),
		SubmitPrecert: func(chain [][]byte) (pkix.Extension, error) {
			sct, err := ctlog.Submit(ctx, http.DefaultClient, ctURL, chain, true)
			if err != nil {
				return pkix.Extension{}, err
			}
			return ctlog.SCTListExtension(sct)
		},
	}))
	digest := sha256.Sum256(blob)
	sig := must[[]byte](t)(ecdsa.SignASN1(rand.Reader, key, digest[:]))
	req := must[*tlog.HashedRekordRequest](t)(tlog.NewHashedRekordRequest(sig, digest[:], crypto.SHA256, cert.Raw, true))
	entry := must[*protorekor.TransparencyLogEntry](t)(tlog.Submit(ctx, url, req))

	vm := bundle.CertificateMaterial(cert)
	vm.TlogEntries = []*protorekor.TransparencyLogEntry{entry}
	ts := must[[]byte](t)(tsa.Timestamp(ctx, tsaURL, sig))
	vm.TimestampVerificationData = &protobundle.TimestampVerificationData{Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: ts}}}
	b := roundTrip(t, bundle.NewMessageSignatureBundle(vm, crypto.SHA256, digest[:], sig))

	res, err := v.Verify(b, verify.ArtifactBytes(blob), identityPolicy())
	if err != nil {
		t.Fatalf("bundle logged in our log server: %v", err)
	}
	if len(res.Timestamps) != 1 || res.Timestamps[0].Sub(time.Now()).Abs() > time.Minute {
		t.Errorf("timestamps %v", res.Timestamps)
	}
	if len(res.TlogEntries) != 1 || res.TlogEntries[0].Version != "0.0.2" {
		t.Errorf("tlog entries %+v", res.TlogEntries)
	}

	// The same entry does not vouch for another signature over the same artifact.
	sig2 := must[[]byte](t)(ecdsa.SignASN1(rand.Reader, key, digest[:]))
	b2 := roundTrip(t, bundle.NewMessageSignatureBundle(vm, crypto.SHA256, digest[:], sig2))
	b2.GetVerificationMaterial().TimestampVerificationData = &protobundle.TimestampVerificationData{
		Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: must[[]byte](t)(tsa.Timestamp(ctx, tsaURL, sig2))}},
	}
	_, err = v.Verify(b2, verify.ArtifactBytes(blob), identityPolicy())
	if !errors.Is(err, verify.ErrTlog) || !strings.Contains(err.Error(), "another signature") {
		t.Errorf("entry reused for another signature: %v", err)
	}
}
