package devstack

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/ca"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/oidc"
)

// TestLegacyCAAPI: the stack's CA answers Fulcio's v1 API as containers/image calls it (DER
// key, proof over the email, token in the Authorization header), and serves its chain at
// /api/v1/rootCert.
func TestLegacyCAAPI(t *testing.T) {
	ctx := context.Background()
	st, err := Start(ctx, Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)

	token, err := st.Issuer.Token(oidc.TokenRequest{Email: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("alice@example.com"))
	proof, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"publicKey": map[string]any{"content": der, "algorithm": "ecdsa"},
		"signedEmailAddress": proof, "certificateSigningRequest": nil})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, st.CAURL+ca.LegacySigningCertPath, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	issued := fetchPEM(t, req, http.StatusCreated)
	if len(issued) != 3 || len(issued[0].EmailAddresses) != 1 || issued[0].EmailAddresses[0] != "alice@example.com" {
		t.Fatalf("v1 signingCert gave %d certificates, leaf SAN %v", len(issued), issued[0].EmailAddresses)
	}

	req, err = http.NewRequest(http.MethodGet, st.CAURL+ca.RootCertPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	chain := fetchPEM(t, req, http.StatusOK)
	if len(chain) != 2 || !chain[0].Equal(issued[1]) || !chain[1].Equal(issued[2]) {
		t.Fatalf("rootCert holds %d certificates, not the chain of the issued certificate", len(chain))
	}
	roots := x509.NewCertPool()
	roots.AddCert(chain[1])
	inters := x509.NewCertPool()
	inters.AddCert(chain[0])
	if _, err := issued[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, CurrentTime: issued[0].NotBefore}); err != nil {
		t.Fatalf("issued certificate does not chain to rootCert: %v", err)
	}
}

// fetchPEM sends req, wants the status and the PEM chain media type, and parses the body.
func fetchPEM(t *testing.T, req *http.Request, status int) []*x509.Certificate {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != ca.PEMCertificateChainType {
		t.Fatalf("%s %s: HTTP %d %q %s", req.Method, req.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	certs, err := pki.ParseCertificates(data)
	if err != nil {
		t.Fatalf("%s: %v", req.URL.Path, err)
	}
	return certs
}
