package verify_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	vs "github.com/cosign-like/cosign-like/internal/testutil/virtualsigstore"
	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/certext"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

const (
	testIssuer = "https://issuer.example.test"
	testEmail  = "alice@example.com"
)

// world is a virtual Sigstore deployment: CA with CT log, TSA and transparency log, all
// trusted from a year ago on.
type world struct {
	now  time.Time
	ca   *vs.CA
	ct   *vs.CTLog
	tsa  *vs.TSA
	log  *vs.Log
	root vs.TrustedRoot
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func newWorld(t *testing.T) *world {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	year := 365 * 24 * time.Hour
	w := &world{now: now}
	w.ca = must[*vs.CA](t)(vs.NewCA("virtual", now.Add(-year), now.Add(year), time.Time{}))
	w.ct = must[*vs.CTLog](t)(vs.NewCTLog())
	w.tsa = must[*vs.TSA](t)(vs.NewTSA("virtual", now.Add(-year), now.Add(year)))
	w.log = must[*vs.Log](t)(vs.NewLog("log.example.test"))
	open := vs.Window{Start: now.Add(-year)}
	w.root = vs.TrustedRoot{
		CAs:    []vs.TrustedCA{{CA: w.ca, Window: open}},
		TSAs:   []vs.TrustedTSA{{TSA: w.tsa, Window: open}},
		Logs:   []vs.TrustedLog{{Log: w.log, Window: open}},
		CTLogs: []vs.TrustedCTLog{{CTLog: w.ct, Window: open}},
	}
	return w
}

func (w *world) verifier(t *testing.T, tr vs.TrustedRoot, opts ...verify.Option) *verify.Verifier {
	t.Helper()
	data, err := tr.JSON()
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := root.ParseTrustedRoot(data)
	if err != nil {
		t.Fatal(err)
	}
	return must[*verify.Verifier](t)(verify.New(trusted, opts...))
}

// signing describes one keyless signature; zero fields take the world's defaults.
type signing struct {
	ca          *vs.CA
	email       string
	uri         string // a second SAN, beside the email
	username    string
	ext         certext.Extensions
	noIssuer    bool // leave out both issuer extensions
	notBefore   time.Time
	notAfter    time.Time
	ct          *vs.CTLog
	noSCT       bool
	tsa         *vs.TSA
	tsTime      time.Time
	noTimestamp bool
	dsse        bool
}

// signed is a keyless bundle and what made it.
type signed struct {
	b      *protobundle.Bundle
	key    *ecdsa.PrivateKey
	cert   *x509.Certificate
	digest []byte // what the hashedrekord entry records
	sig    []byte
}

func (w *world) sign(t *testing.T, data []byte, s signing) *signed {
	t.Helper()
	if s.ca == nil {
		s.ca = w.ca
	}
	if s.email == "" && s.username == "" {
		s.email = testEmail
	}
	if s.ext.IssuerV2 == "" && !s.noIssuer {
		s.ext.IssuerV2 = testIssuer
	}
	if s.notBefore.IsZero() {
		s.notBefore = w.now.Add(-time.Minute)
		s.notAfter = w.now.Add(9 * time.Minute)
	}
	if s.ct == nil && !s.noSCT {
		s.ct = w.ct
	}
	if s.tsa == nil {
		s.tsa = w.tsa
	}
	if s.tsTime.IsZero() {
		s.tsTime = w.now
	}
	key := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	cert := must[*x509.Certificate](t)(s.ca.Issue(key.Public(), vs.CertOptions{
		Email: s.email, URI: s.uri, Username: s.username, Extensions: s.ext, NotBefore: s.notBefore, NotAfter: s.notAfter, CTLog: s.ct,
	}))
	out := &signed{key: key, cert: cert}
	vm := bundle.CertificateMaterial(cert)
	var b *protobundle.Bundle
	if s.dsse {
		sum := sha256.Sum256(data)
		payload := must[[]byte](t)(bundle.NewImageStatement("registry.example/app", hex.EncodeToString(sum[:]), nil))
		pae := bundle.PAE(bundle.PayloadTypeInToto, payload)
		paeSum := sha256.Sum256(pae)
		out.digest = paeSum[:]
		out.sig = must[[]byte](t)(ecdsa.SignASN1(rand.Reader, key, paeSum[:]))
		b = bundle.NewDSSEBundle(vm, bundle.NewEnvelope(bundle.PayloadTypeInToto, payload, out.sig))
	} else {
		sum := sha256.Sum256(data)
		out.digest = sum[:]
		out.sig = must[[]byte](t)(ecdsa.SignASN1(rand.Reader, key, sum[:]))
		b = bundle.NewMessageSignatureBundle(vm, crypto.SHA256, sum[:], out.sig)
	}
	body := must[[]byte](t)(vs.HashedRekordBody("SHA2_256", out.digest, out.sig, vs.Verifier{Certificate: cert}))
	entry := must[*protorekor.TransparencyLogEntry](t)(w.log.Append(body, "hashedrekord", "0.0.2"))
	vm.TlogEntries = []*protorekor.TransparencyLogEntry{entry}
	if !s.noTimestamp {
		ts := must[[]byte](t)(s.tsa.Timestamp(out.sig, s.tsTime, true))
		vm.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: ts}},
		}
	}
	out.b = b
	return out
}

func identityPolicy() verify.Policy {
	return verify.Policy{Identity: &verify.Identity{Subject: testEmail, Issuer: testIssuer}}
}

// identityExtensions are the Fulcio extensions of the default test identity.
func identityExtensions() certext.Extensions {
	return certext.Extensions{IssuerV2: testIssuer}
}

func ecdsaSign(k *ecdsa.PrivateKey, digest []byte) ([]byte, error) {
	return ecdsa.SignASN1(rand.Reader, k, digest)
}

// timestamp has the world's TSA timestamp a signature now.
func (w *world) timestamp(t *testing.T, sig []byte) *protobundle.TimestampVerificationData {
	t.Helper()
	ts := must[[]byte](t)(w.tsa.Timestamp(sig, w.now, true))
	return &protobundle.TimestampVerificationData{Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: ts}}}
}
