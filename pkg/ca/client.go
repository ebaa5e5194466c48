package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// ErrCertificateResponse wraps answers of a CA that the client refuses.
var ErrCertificateResponse = errors.New("invalid certificate response")

// maxCertResponseSize bounds a signingCert answer.
const maxCertResponseSize = 1 << 20

// RequestCertificate trades idToken for a code-signing certificate for s's public key at the
// Fulcio-compatible CA at fulcioURL (its base URL). Possession of the key is proven with a CSR
// signed by s. It returns the chain, leaf first, after checking that the leaf certifies s's key
// and embeds an SCT. Whether the chain is trusted is for the verifier to decide.
func RequestCertificate(ctx context.Context, fulcioURL, idToken string, s signer.Signer) ([]*x509.Certificate, error) {
	return RequestCertificateWithClient(ctx, http.DefaultClient, fulcioURL, idToken, s)
}

// RequestCertificateWithClient is RequestCertificate with a given HTTP client.
func RequestCertificateWithClient(ctx context.Context, client *http.Client, fulcioURL, idToken string, s signer.Signer) ([]*x509.Certificate, error) {
	if s == nil {
		return nil, errors.New("requesting certificate: no signer")
	}
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, signer.AsCryptoSigner(s))
	if err != nil {
		return nil, fmt.Errorf("creating certificate request: %w", err)
	}
	var req SigningCertRequest
	req.Credentials.OIDCIdentityToken = idToken
	req.CertificateSigningRequest = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER})
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding signingCert request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	u := strings.TrimSuffix(fulcioURL, "/") + SigningCertPath
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("requesting certificate from %s: %w", u, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("requesting certificate from %s: %w", u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxCertResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading certificate response from %s: %w", u, err)
	}
	if len(data) > maxCertResponseSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrCertificateResponse, maxCertResponseSize)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		var e apiError
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			return nil, fmt.Errorf("CA %s refused the request (HTTP %d): %s", fulcioURL, resp.StatusCode, e.Message)
		}
		return nil, fmt.Errorf("CA %s refused the request (HTTP %d): %s", fulcioURL, resp.StatusCode,
			strings.TrimSpace(string(data[:min(len(data), 512)])))
	}
	return parseSigningCertResponse(data, s.Public())
}

// parseSigningCertResponse decodes the chain and checks that its leaf certifies pub and embeds
// an SCT.
func parseSigningCertResponse(data []byte, pub crypto.PublicKey) ([]*x509.Certificate, error) {
	var resp SigningCertResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCertificateResponse, err)
	}
	if resp.SignedCertificateEmbeddedSct == nil {
		return nil, fmt.Errorf("%w: no certificate with an embedded SCT", ErrCertificateResponse)
	}
	var chain []*x509.Certificate
	for i, p := range resp.SignedCertificateEmbeddedSct.Chain.Certificates {
		certs, err := pki.ParseCertificates([]byte(p))
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %v", ErrCertificateResponse, i, err)
		}
		chain = append(chain, certs...)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: empty chain", ErrCertificateResponse)
	}
	leaf := chain[0]
	if k, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(pub) {
		return nil, fmt.Errorf("%w: the certificate is for another key", ErrCertificateResponse)
	}
	hasSCT := false
	for _, e := range leaf.Extensions {
		if e.Id.Equal(ctlog.OIDSCTList) {
			hasSCT = true
		}
	}
	if !hasSCT {
		return nil, fmt.Errorf("%w: the certificate embeds no SCT", ErrCertificateResponse)
	}
	for i := 0; i+1 < len(chain); i++ {
		if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
			return nil, fmt.Errorf("%w: certificate %d is not signed by certificate %d: %v", ErrCertificateResponse, i, i+1, err)
		}
	}
	return chain, nil
}
