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
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/internal/testutil/testservers"
	vs "github.com/cosign-like/cosign-like/internal/testutil/virtualsigstore"
	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tsa"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// ourStack is our log server, TSA and CT log on 127.0.0.1, the virtual CA, and a verifier
// whose trusted root merges the CA's part with the parts our servers' init commands wrote.
type ourStack struct {
	w                     *world
	logURL, tsaURL, ctURL string
	v                     *verify.Verifier
}

func startOurStack(t *testing.T) *ourStack {
	t.Helper()
	s := &ourStack{w: newWorld(t)}
	l, ts, ct := testservers.StartLog(t), testservers.StartTSA(t), testservers.StartCTLog(t)
	s.logURL, s.tsaURL, s.ctURL = l.URL, ts.URL, ct.URL

	// The trusted root: the world's CA, plus the log, TSA and CT log as their init wrote them.
	worldRoot := s.w.root
	worldRoot.Logs = nil
	worldRoot.TSAs = nil
	worldRoot.CTLogs = nil
	tr := testservers.TrustedRoot(t, must[[]byte](t)(worldRoot.JSON()), l.TrustedRootPart, ts.TrustedRootPart, ct.TrustedRootPart)
	// log init lists two tlogs under the log's URL: its Rekor v2 tree and its Rekor v1 tree.
	if len(tr.CTLogs()) != 1 || len(tr.Tlogs()) != 2 || len(tr.TimestampAuthorities()) != 1 {
		t.Fatalf("merged trusted root: %d CT logs, %d logs, %d TSAs; want 1, 2 (the log's v2 and v1 trees), 1", len(tr.CTLogs()), len(tr.Tlogs()), len(tr.TimestampAuthorities()))
	}
	s.v = must[*verify.Verifier](t)(verify.New(tr))
	return s
}

// issue makes a keyless certificate for key, naming the test identity, whose precertificate
// goes to our CT log.
func (s *ourStack) issue(ctx context.Context, t *testing.T, key *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	return must[*x509.Certificate](t)(s.w.ca.Issue(key.Public(), vs.CertOptions{
		Email: testEmail, NotBefore: s.w.now.Add(-time.Minute), NotAfter: s.w.now.Add(9 * time.Minute),
		Extensions: identityExtensions(),
		SubmitPrecert: func(chain [][]byte) (pkix.Extension, error) {
			sct, err := ctlog.Submit(ctx, http.DefaultClient, s.ctURL, chain, true)
			if err != nil {
				return pkix.Extension{}, err
			}
			return ctlog.SCTListExtension(sct)
		},
	}))
}

// timestamp is our TSA's timestamp of sig, as bundle verification data.
func (s *ourStack) timestamp(ctx context.Context, t *testing.T, sig []byte) *protobundle.TimestampVerificationData {
	t.Helper()
	ts := must[[]byte](t)(tsa.Timestamp(ctx, s.tsaURL, sig))
	return &protobundle.TimestampVerificationData{Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: ts}}}
}

// TestOurServers signs keyless with the virtual CA whose precertificate goes to our real CT
// log, timestamps the signature with our real TSA and logs it in our real log server, all over
// HTTP, and verifies the bundle against a trusted root that merges the parts their init
// commands wrote.
func TestOurServers(t *testing.T) {
	s := startOurStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	key := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	cert := s.issue(ctx, t, key)
	digest := sha256.Sum256(blob)
	sig := must[[]byte](t)(ecdsa.SignASN1(rand.Reader, key, digest[:]))
	req := must[*tlog.HashedRekordRequest](t)(tlog.NewHashedRekordRequest(sig, digest[:], crypto.SHA256, cert.Raw, true))
	entry := must[*protorekor.TransparencyLogEntry](t)(logclient.Submit(ctx, s.logURL, req))

	vm := bundle.CertificateMaterial(cert)
	vm.TlogEntries = []*protorekor.TransparencyLogEntry{entry}
	vm.TimestampVerificationData = s.timestamp(ctx, t, sig)
	b := roundTrip(t, bundle.NewMessageSignatureBundle(vm, crypto.SHA256, digest[:], sig))

	res, err := s.v.Verify(b, verify.ArtifactBytes(blob), identityPolicy())
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
	b2.GetVerificationMaterial().TimestampVerificationData = s.timestamp(ctx, t, sig2)
	_, err = s.v.Verify(b2, verify.ArtifactBytes(blob), identityPolicy())
	if !errors.Is(err, verify.ErrTlog) || !strings.Contains(err.Error(), "another signature") {
		t.Errorf("entry reused for another signature: %v", err)
	}
}

// submitDSSE posts the envelope to our log server as sigstore-js does, as a dsseRequestV002
// with one P-256 verifier (kind publicKey or x509Certificate), and returns the entry it answers.
func submitDSSE(t *testing.T, logURL string, env *protodsse.Envelope, kind string, der []byte) *protorekor.TransparencyLogEntry {
	t.Helper()
	envJSON := must[[]byte](t)(protojson.Marshal(env))
	body := fmt.Sprintf(`{"dsseRequestV002": {"envelope": %s, "verifiers": [{%q: {"rawBytes": %q}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"}]}}`,
		envJSON, kind, base64.StdEncoding.EncodeToString(der))
	resp := must[*http.Response](t)(http.Post(logURL+"/api/v2/log/entries", "application/json", strings.NewReader(body)))
	defer resp.Body.Close()
	out := must[[]byte](t)(io.ReadAll(resp.Body))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("dsseRequestV002: %d %s", resp.StatusCode, out)
	}
	entry := &protorekor.TransparencyLogEntry{}
	if err := protojson.Unmarshal(out, entry); err != nil {
		t.Fatalf("answer: %v\n%s", err, out)
	}
	return entry
}

// TestOurLogDSSERequest logs attestations in our log server as sigstore-js does
// (dsseRequestV002), puts each answer into a bundle with its envelope, and verifies the bundle:
// the log wrote the hashedrekord entry a verifier rebuilds from the envelope.
func TestOurLogDSSERequest(t *testing.T) {
	s := startOurStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	manifest := sha256.Sum256([]byte(`{"schemaVersion":2}`))
	payload := must[[]byte](t)(bundle.NewImageStatement("registry.example/app", hex.EncodeToString(manifest[:]), nil))
	paeSum := sha256.Sum256(bundle.PAE(bundle.PayloadTypeInToto, payload))
	artifact := verify.ArtifactDigest(crypto.SHA256, manifest[:])
	check := func(t *testing.T, b *protobundle.Bundle, p verify.Policy) {
		t.Helper()
		res, err := s.v.Verify(roundTrip(t, b), artifact, p)
		if err != nil {
			t.Fatalf("DSSE bundle with the entry our log answered: %v", err)
		}
		if len(res.TlogEntries) != 1 || res.TlogEntries[0].Kind != "hashedrekord" || res.TlogEntries[0].Version != "0.0.2" {
			t.Fatalf("tlog entries %+v", res.TlogEntries)
		}
	}

	t.Run("key", func(t *testing.T) {
		key := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
		sig := must[[]byte](t)(ecdsa.SignASN1(rand.Reader, key, paeSum[:]))
		env := bundle.NewEnvelope(bundle.PayloadTypeInToto, payload, sig)
		entry := submitDSSE(t, s.logURL, env, "publicKey", must[[]byte](t)(x509.MarshalPKIXPublicKey(key.Public())))
		vm := must[*protobundle.VerificationMaterial](t)(bundle.KeyMaterial(key.Public()))
		vm.TlogEntries = []*protorekor.TransparencyLogEntry{entry}
		check(t, bundle.NewDSSEBundle(vm, env), verify.Policy{Key: key.Public()})

		// The entry does not vouch for another signature over the same envelope.
		sig2 := must[[]byte](t)(ecdsa.SignASN1(rand.Reader, key, paeSum[:]))
		_, err := s.v.Verify(bundle.NewDSSEBundle(vm, bundle.NewEnvelope(bundle.PayloadTypeInToto, payload, sig2)), artifact, verify.Policy{Key: key.Public()})
		if !errors.Is(err, verify.ErrTlog) || !strings.Contains(err.Error(), "another signature") {
			t.Errorf("entry reused for another signature: %v", err)
		}
	})
	t.Run("certificate", func(t *testing.T) {
		key := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
		cert := s.issue(ctx, t, key)
		sig := must[[]byte](t)(ecdsa.SignASN1(rand.Reader, key, paeSum[:]))
		env := bundle.NewEnvelope(bundle.PayloadTypeInToto, payload, sig)
		entry := submitDSSE(t, s.logURL, env, "x509Certificate", cert.Raw)
		vm := bundle.CertificateMaterial(cert)
		vm.TlogEntries = []*protorekor.TransparencyLogEntry{entry}
		vm.TimestampVerificationData = s.timestamp(ctx, t, sig)
		check(t, bundle.NewDSSEBundle(vm, env), identityPolicy())
	})
}
