package testservers_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/cosign-like/cosign-like/internal/testutil/testservers"
	"github.com/cosign-like/cosign-like/pkg/ca"
	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tsa"
	"github.com/cosign-like/cosign-like/pkg/tuf"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

const email = "alice@example.com"

// get fetches url and returns the status and body of the answer.
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// checkHealthy fails the test unless base/healthz answers 200.
func checkHealthy(t *testing.T, base string) {
	t.Helper()
	if code, body := get(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("GET %s/healthz: %d %s", base, code, body)
	}
}

// testContext is a context that ends after 30 seconds or with the test.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestLog submits an entry and reads it back, proven included under a checkpoint signed with
// the log's key, which its trusted-root part lists too.
func TestLog(t *testing.T) {
	ctx := testContext(t)
	l := testservers.StartLog(t)
	checkHealthy(t, l.URL)
	keys, err := testservers.TrustedRoot(t, l.TrustedRootPart).LogKeys(l.URL)
	// Two keys under the log's URL: its Rekor v2 tree's and its Rekor v1 tree's.
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0].KeyID, l.Key.KeyID) || bytes.Equal(keys[1].KeyID, l.Key.KeyID) {
		t.Fatalf("trusted root part's log keys %v (%v), want the log's key %x and its v1 tree's", keys, err, l.Key.KeyID)
	}
	s, err := signer.GenerateEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("artifact"))
	sig, err := s.SignDigest(ctx, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	req, err := tlog.NewHashedRekordRequest(sig, digest[:], crypto.SHA256, der, false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := logclient.NewClient(l.URL)
	if err != nil {
		t.Fatal(err)
	}
	entry, err := c.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := c.Checkpoint(ctx, []tlog.LogKey{l.Key})
	if err != nil {
		t.Fatal(err)
	}
	read, err := c.Entry(ctx, uint64(entry.LogIndex), cp)
	if err != nil || !bytes.Equal(read.CanonicalizedBody, entry.CanonicalizedBody) {
		t.Fatalf("entry %d read back: %v", entry.LogIndex, err)
	}
}

// TestCAAndCTLog has the CA issue a certificate for a dev issuer token, with an SCT of its CT
// log embedded, and the CT log add the issued chain.
func TestCAAndCTLog(t *testing.T) {
	ctx := testContext(t)
	a := testservers.StartCA(t)
	for _, u := range []string{a.URL, a.CTLog.URL, a.Issuer.Issuer()} {
		checkHealthy(t, u)
	}
	s, err := signer.GenerateEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	chain, err := ca.RequestCertificate(ctx, a.URL, testservers.Token(t, a.Issuer, email), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 3 || len(chain[0].EmailAddresses) != 1 || chain[0].EmailAddresses[0] != email || !chain[2].Equal(a.Chain[1]) {
		t.Fatalf("issued chain of %d certificates: %v", len(chain), chain[0].EmailAddresses)
	}
	if err := ctlog.VerifyEmbeddedSCT(chain[0].Raw, chain[1].Raw, a.CTLog.PublicKey); err != nil {
		t.Fatalf("embedded SCT: %v", err)
	}
	if tr := testservers.TrustedRoot(t, a.TrustedRootPart, a.CTLog.TrustedRootPart); len(tr.CertificateAuthorities()) != 1 || len(tr.CTLogs()) != 1 {
		t.Fatalf("trusted root parts list %d CAs and %d CT logs", len(tr.CertificateAuthorities()), len(tr.CTLogs()))
	}
	sct, err := ctlog.Submit(ctx, http.DefaultClient, a.CTLog.URL, [][]byte{chain[0].Raw, chain[1].Raw, chain[2].Raw}, false)
	if err != nil || sct.LogID.KeyID != a.CTLog.Server.LogID() {
		t.Fatalf("add-chain: %v", err)
	}
}

// TestCAWithGivenIssuerAndCTLog: a CA trusts the issuers and uses the CT log it is given.
func TestCAWithGivenIssuerAndCTLog(t *testing.T) {
	ctx := testContext(t)
	iss := testservers.StartIssuer(t, oidc.DevIssuerOptions{})
	ct := testservers.StartCTLog(t)
	a := testservers.StartCA(t, testservers.WithIssuers(ca.IssuerConfig{URL: iss.Issuer(), Type: ca.IssuerEmail}), testservers.WithCTLog(ct))
	if a.Issuer != nil || a.CTLog != ct {
		t.Fatalf("CA started its own issuer (%v) or CT log (%v)", a.Issuer, a.CTLog != ct)
	}
	s, err := signer.GenerateEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	chain, err := ca.RequestCertificate(ctx, a.URL, testservers.Token(t, iss, email), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := ctlog.VerifyEmbeddedSCT(chain[0].Raw, chain[1].Raw, ct.PublicKey); err != nil {
		t.Fatalf("embedded SCT of the given CT log: %v", err)
	}
}

// TestTSA timestamps a signature and checks the answer is signed by the TSA's certificate.
func TestTSA(t *testing.T) {
	ctx := testContext(t)
	a := testservers.StartTSA(t)
	if !strings.HasSuffix(a.URL, tsa.TimestampPath) {
		t.Fatalf("timestamp URL %s", a.URL)
	}
	checkHealthy(t, strings.TrimSuffix(a.URL, tsa.TimestampPath))
	der, err := tsa.Timestamp(ctx, a.URL, []byte("signature"))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := timestamp.ParseResponse(der)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte("signature"))
	if !bytes.Equal(ts.HashedMessage, want[:]) || len(ts.Certificates) == 0 || !ts.Certificates[0].Equal(a.Chain[0]) {
		t.Fatal("timestamp over another digest, or not signed by the TSA's certificate")
	}
	if tr := testservers.TrustedRoot(t, a.TrustedRootPart); len(tr.TimestampAuthorities()) != 1 {
		t.Fatalf("trusted root part lists %d TSAs", len(tr.TimestampAuthorities()))
	}
}

// TestTUF serves a published repository: its initial root is there as NewDevRepository made it.
func TestTUF(t *testing.T) {
	dir := t.TempDir()
	rootJSON, err := tuf.NewDevRepository(dir, map[string][]byte{tuf.TrustedRootTarget: []byte("{}")}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mirror := testservers.StartTUF(t, dir).URL
	checkHealthy(t, mirror)
	if code, body := get(t, mirror+"/1.root.json"); code != http.StatusOK || !bytes.Equal(body, rootJSON) {
		t.Fatalf("GET /1.root.json: %d, %d bytes, want the %d bytes of the initial root", code, len(body), len(rootJSON))
	}
}

// TestStack signs a blob keyless through the stack's CA, TSA and log, as its signing config
// names them, and verifies the bundle under its trusted root.
func TestStack(t *testing.T) {
	ctx := testContext(t)
	st := testservers.StartStack(t)
	sc := st.SigningConfig
	if sc.CAURL != st.CAURL || sc.OIDCURL != st.OIDCURL || sc.RekorURL != st.LogURL || sc.TSAURL != st.TSAURL {
		t.Fatalf("signing config %+v, stack %s %s %s %s", sc, st.CAURL, st.OIDCURL, st.LogURL, st.TSAURL)
	}
	for _, u := range []string{st.OIDCURL, st.CTURL, st.CAURL, st.LogURL, strings.TrimSuffix(st.TSAURL, tsa.TimestampPath)} {
		checkHealthy(t, u)
	}
	tr := st.TrustedRoot
	if len(tr.CertificateAuthorities()) != 1 || len(tr.CTLogs()) != 1 || len(tr.Tlogs()) != 2 || len(tr.TimestampAuthorities()) != 1 {
		t.Fatalf("trusted root: %d CAs, %d CT logs, %d logs, %d TSAs; want one each, and the log's two trees (Rekor v2 and v1)",
			len(tr.CertificateAuthorities()), len(tr.CTLogs()), len(tr.Tlogs()), len(tr.TimestampAuthorities()))
	}
	keys, err := tr.LogKeys(sc.RekorURL)
	if err != nil {
		t.Fatal(err)
	}
	s, chain, err := cosign.Keyless(ctx, sc.CAURL, testservers.Token(t, st.Issuer, email))
	if err != nil {
		t.Fatal(err)
	}
	blob := []byte("a blob")
	b, err := cosign.SignBlob(ctx, bytes.NewReader(blob), s, &cosign.BundleOptions{Chain: chain, TSAURL: sc.TSAURL, RekorURL: sc.RekorURL, LogKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(tr)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cosign.VerifyBlob(bytes.NewReader(blob), b, v, verify.Policy{Identity: &verify.Identity{Subject: email, Issuer: sc.OIDCURL}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Timestamps) != 1 || len(res.TlogEntries) != 1 {
		t.Fatalf("verified %d timestamps and %d log entries, want one each", len(res.Timestamps), len(res.TlogEntries))
	}
}
