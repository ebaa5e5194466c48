package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/certext"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

func verifyCodeSigning(t *testing.T, chain []*x509.Certificate) {
	t.Helper()
	// Go does not handle an OtherName-only SAN (username identities), which RFC 5280 makes
	// critical for a certificate without subject; verifiers accept it as sigstore-go does.
	leaf := *chain[0]
	var unhandled []asn1.ObjectIdentifier
	for _, oid := range leaf.UnhandledCriticalExtensions {
		if !oid.Equal(asn1.ObjectIdentifier{2, 5, 29, 17}) {
			unhandled = append(unhandled, oid)
		}
	}
	leaf.UnhandledCriticalExtensions = unhandled
	chain = append([]*x509.Certificate{&leaf}, chain[1:]...)
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(chain[len(chain)-1])
	for _, c := range chain[1 : len(chain)-1] {
		inters.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, CurrentTime: chain[0].NotBefore.Add(time.Second)}); err != nil {
		t.Fatalf("Go x509 does not verify the chain: %v", err)
	}
}

func opensslVerify(t *testing.T, chain []*x509.Certificate) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl not installed")
		}
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	write := func(name string, certs []*x509.Certificate) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pki.EncodeCertificates(certs), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	root := write("root.pem", chain[len(chain)-1:])
	inter := write("inter.pem", chain[1:len(chain)-1])
	leaf := write("leaf.pem", chain[:1])
	out, err := exec.Command("openssl", "verify", "-x509_strict", "-CAfile", root, "-untrusted", inter, leaf).CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": OK") {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}
}

func TestIssueEmailIdentity(t *testing.T) {
	e := newEnv(t, IssuerEmail, oidc.DevIssuerOptions{})
	s, err := signer.GenerateEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	tok := e.token(t, oidc.TokenRequest{Email: "alice@example.com"})
	chain, err := RequestCertificate(context.Background(), e.caURL, tok, s)
	if err != nil {
		t.Fatal(err)
	}
	checkEmailCertificate(t, e, chain, "alice@example.com")
}

// checkEmailCertificate checks an issued chain for an email identity: leaf then the CA's
// chain, the SAN, validity, code-signing EKU, the issuer extensions, no poison, an embedded SCT
// that verifies under the CT log's key, and a chain that Go and openssl verify.
func checkEmailCertificate(t *testing.T, e *testEnv, chain []*x509.Certificate, email string) {
	t.Helper()
	if len(chain) != 3 {
		t.Fatalf("chain of %d certificates, want leaf, intermediate, root", len(chain))
	}
	for i, c := range e.chain {
		if !c.Equal(chain[i+1]) {
			t.Fatalf("certificate %d of the chain is not the CA's", i+1)
		}
	}
	leaf := chain[0]
	if len(leaf.EmailAddresses) != 1 || leaf.EmailAddresses[0] != email || len(leaf.URIs) != 0 {
		t.Errorf("SAN = %v %v, want %s", leaf.EmailAddresses, leaf.URIs, email)
	}
	if got := leaf.NotAfter.Sub(leaf.NotBefore); got != CertificateValidity {
		t.Errorf("validity %v, want %v", got, CertificateValidity)
	}
	if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageCodeSigning || leaf.IsCA {
		t.Errorf("EKU %v IsCA %v, want code signing leaf", leaf.ExtKeyUsage, leaf.IsCA)
	}
	exts, err := certext.Parse(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if exts.Issuer != e.issuer.Issuer() || exts.IssuerV2 != e.issuer.Issuer() || exts.OIDCIssuer() != e.issuer.Issuer() {
		t.Errorf("issuer extensions %+v, want %s", exts, e.issuer.Issuer())
	}
	for _, ext := range leaf.Extensions {
		if ext.Id.Equal(asn1.ObjectIdentifier(ctlog.OIDPoison)) {
			t.Fatal("final certificate carries the poison extension")
		}
	}
	if err := ctlog.VerifyEmbeddedSCT(leaf.Raw, chain[1].Raw, e.ct.PublicKey()); err != nil {
		t.Fatalf("embedded SCT does not verify: %v", err)
	}
	verifyCodeSigning(t, chain)
	opensslVerify(t, chain)
}

func TestIssueWithProofOfPossession(t *testing.T) {
	e := newEnv(t, IssuerEmail, oidc.DevIssuerOptions{Algorithm: "RS256"})
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	tok := e.token(t, oidc.TokenRequest{Email: "alice@example.com", Subject: "user-123"})
	// For an email issuer the proof signs the email, not sub.
	digest := sha256.Sum256([]byte("alice@example.com"))
	sig, _ := ecdsa.SignASN1(rand.Reader, key, digest[:])
	chain, err := e.ca.Issue(context.Background(), tok, KeyProof{PublicKey: key.Public(), Signature: sig})
	if err != nil {
		t.Fatal(err)
	}
	if !chain[0].PublicKey.(*ecdsa.PublicKey).Equal(key.Public()) {
		t.Fatal("certificate for another key")
	}
	verifyCodeSigning(t, chain)
}

func TestIssueGitHubWorkflowIdentity(t *testing.T) {
	e := newEnv(t, IssuerGitHubWorkflow, oidc.DevIssuerOptions{})
	claims := map[string]any{
		"job_workflow_ref": "acme/app/.github/workflows/release.yml@refs/heads/main",
		"job_workflow_sha": "1111111111111111111111111111111111111111",
		"workflow_ref":     "acme/app/.github/workflows/release.yml@refs/heads/main",
		"workflow_sha":     "1111111111111111111111111111111111111111",
		"repository":       "acme/app", "repository_id": "42", "repository_owner": "acme", "repository_owner_id": "7",
		"repository_visibility": "public", "sha": "2222222222222222222222222222222222222222", "ref": "refs/heads/main",
		"event_name": "push", "workflow": "Release", "run_id": "99", "run_attempt": "1",
		"runner_environment": "github-hosted", "environment": "production",
	}
	tok := e.token(t, oidc.TokenRequest{Subject: "repo:acme/app:ref:refs/heads/main", Claims: claims})
	s, _ := signer.GenerateEphemeral()
	chain, err := RequestCertificate(context.Background(), e.caURL, tok, s)
	if err != nil {
		t.Fatal(err)
	}
	const workflow = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"
	if len(chain[0].URIs) != 1 || chain[0].URIs[0].String() != workflow {
		t.Fatalf("SAN URIs %v, want %s", chain[0].URIs, workflow)
	}
	got, err := certext.Parse(chain[0])
	if err != nil {
		t.Fatal(err)
	}
	want := certext.Extensions{
		Issuer: e.issuer.Issuer(), IssuerV2: e.issuer.Issuer(),
		GithubWorkflowTrigger: "push", GithubWorkflowSHA: "2222222222222222222222222222222222222222",
		GithubWorkflowName: "Release", GithubWorkflowRepository: "acme/app", GithubWorkflowRef: "refs/heads/main",
		BuildSignerURI: workflow, BuildSignerDigest: "1111111111111111111111111111111111111111",
		RunnerEnvironment: "github-hosted", SourceRepositoryURI: "https://github.com/acme/app",
		SourceRepositoryDigest: "2222222222222222222222222222222222222222", SourceRepositoryRef: "refs/heads/main",
		SourceRepositoryIdentifier: "42", SourceRepositoryOwnerURI: "https://github.com/acme",
		SourceRepositoryOwnerIdentifier: "7", BuildConfigURI: workflow,
		BuildConfigDigest: "1111111111111111111111111111111111111111", BuildTrigger: "push",
		RunInvocationURI:                    "https://github.com/acme/app/actions/runs/99/attempts/1",
		SourceRepositoryVisibilityAtSigning: "public", DeploymentEnvironment: "production",
	}
	if got != want {
		t.Fatalf("extensions\n got %+v\nwant %+v", got, want)
	}
	opensslVerify(t, chain)
}

func TestIssueOtherIdentityTypes(t *testing.T) {
	tests := []struct {
		typ     IssuerType
		subject string
		claims  map[string]any
		check   func(t *testing.T, c *x509.Certificate, issuerHost string)
	}{
		{IssuerKubernetes, "system:serviceaccount:prod:builder", nil, func(t *testing.T, c *x509.Certificate, _ string) {
			if len(c.URIs) != 1 || c.URIs[0].String() != "https://kubernetes.io/namespaces/prod/serviceaccounts/builder" {
				t.Errorf("SAN %v", c.URIs)
			}
		}},
		{IssuerUsername, "carol", nil, func(t *testing.T, c *x509.Certificate, host string) {
			var raw []byte
			for _, e := range c.Extensions {
				if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 17}) {
					raw = e.Value
					if !e.Critical {
						t.Error("SAN not critical")
					}
				}
			}
			if !strings.Contains(string(raw), "carol!"+host) {
				t.Errorf("SAN %x does not hold carol!%s", raw, host)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(string(tc.typ), func(t *testing.T) {
			e := newEnv(t, tc.typ, oidc.DevIssuerOptions{})
			tok := e.token(t, oidc.TokenRequest{Subject: tc.subject, Claims: tc.claims})
			s, _ := signer.GenerateEphemeral()
			chain, err := RequestCertificate(context.Background(), e.caURL, tok, s)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, chain[0], "127.0.0.1")
			verifyCodeSigning(t, chain)
			opensslVerify(t, chain)
		})
	}
	t.Run("uri", func(t *testing.T) {
		e := newEnv(t, IssuerURI, oidc.DevIssuerOptions{})
		s, _ := signer.GenerateEphemeral()
		tok := e.token(t, oidc.TokenRequest{Subject: "https://127.0.0.1/services/builder"})
		chain, err := RequestCertificate(context.Background(), e.caURL, tok, s)
		if err != nil {
			t.Fatal(err)
		}
		if chain[0].URIs[0].String() != "https://127.0.0.1/services/builder" {
			t.Fatalf("SAN %v", chain[0].URIs)
		}
		// SPIFFE-like IDs are URIs too: the trust domain is the host.
		tok = e.token(t, oidc.TokenRequest{Subject: "spiffe://127.0.0.1/ns/prod/sa/builder"})
		chain, err = RequestCertificate(context.Background(), e.caURL, tok, s)
		if err != nil || chain[0].URIs[0].String() != "spiffe://127.0.0.1/ns/prod/sa/builder" {
			t.Fatalf("SPIFFE ID: %v", err)
		}
		tok = e.token(t, oidc.TokenRequest{Subject: "https://evil.example/builder"})
		_, err = RequestCertificate(context.Background(), e.caURL, tok, s)
		if err == nil || !strings.Contains(err.Error(), `sub "https://evil.example/builder" is not on 127.0.0.1`) {
			t.Fatalf("foreign-domain URI: %v", err)
		}
	})
}

func TestInitWithPKCS11Key(t *testing.T) {
	// The signer package keeps PKCS#11 modules open per process: start from, and leave, none
	// open, since this test points SoftHSM at a token directory of its own.
	module := testutil.NewSoftHSMToken(t, "ca-test", "1234", signer.ClosePKCS11)
	dir := t.TempDir()
	uri := "pkcs11:token=ca-test;object=ca-intermediate?module-path=" + module + "&pin-value=1234"
	if err := Init(context.Background(), dir, InitOptions{KMS: uri}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); !os.IsNotExist(err) {
		t.Fatalf("a key file was written for a PKCS#11 CA: %v", err)
	}
	key, chain, err := LoadKey(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{}
	e.issuer = startIssuer(t, oidc.DevIssuerOptions{})
	e.ct, e.ctURL = startCTLog(t)
	tv, _ := NewTokenVerifier([]IssuerConfig{{URL: e.issuer.Issuer()}}, nil)
	a, err := New(context.Background(), Config{Key: key, Chain: chain, Options: Options{Tokens: tv, CTURL: e.ctURL}})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := signer.GenerateEphemeral()
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, signer.AsCryptoSigner(s))
	issued, err := a.Issue(context.Background(), e.token(t, oidc.TokenRequest{Email: "hsm@example.com"}), KeyProof{CSR: csr})
	if err != nil {
		t.Fatal(err)
	}
	verifyCodeSigning(t, issued)
	opensslVerify(t, issued)
}

// digestOnlySigner hides the in-memory key behind the Signer interface, as a KMS plugin key
// would be: it signs digests only, so it cannot sign a pure-Ed25519 CSR.
type digestOnlySigner struct{ signer.Signer }

func TestRequestCertificateProofFallback(t *testing.T) {
	priv, err := signer.GenerateKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	inner, err := signer.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	s := digestOnlySigner{inner}
	for _, tc := range []struct {
		typ IssuerType
		req oidc.TokenRequest
	}{
		{IssuerEmail, oidc.TokenRequest{Email: "alice@example.com", Subject: "user-7"}},
		{IssuerUsername, oidc.TokenRequest{Subject: "carol", Claims: map[string]any{"email": "carol@example.com"}}},
	} {
		t.Run(string(tc.typ), func(t *testing.T) {
			e := newEnv(t, tc.typ, oidc.DevIssuerOptions{})
			chain, err := RequestCertificate(context.Background(), e.caURL, e.token(t, tc.req), s)
			if err != nil {
				t.Fatal(err)
			}
			verifyCodeSigning(t, chain)
		})
	}
}
