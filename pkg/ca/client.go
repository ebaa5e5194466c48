package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cosign-like/cosign-like/internal/limitio"
	"github.com/cosign-like/cosign-like/internal/netutil"
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
// signed by s; a signer that cannot sign a CSR (a KMS key that signs only digests of another
// hash) signs the challenge claim the CA's configuration names for the token's issuer instead.
// It returns the chain, leaf first, after checking that the leaf certifies s's key and embeds
// an SCT. Whether the chain is trusted is for the verifier to decide.
func RequestCertificate(ctx context.Context, fulcioURL, idToken string, s signer.Signer) ([]*x509.Certificate, error) {
	return RequestCertificateWithClient(ctx, http.DefaultClient, fulcioURL, idToken, s)
}

// RequestCertificateWithClient is RequestCertificate with a given HTTP client. Whatever the
// client, a request that makes no progress for 30 s (connecting, sending, waiting for the
// answer's headers, or within one read of its body) is cancelled, naming the CA and what was
// awaited.
func RequestCertificateWithClient(ctx context.Context, client *http.Client, fulcioURL, idToken string, s signer.Signer) ([]*x509.Certificate, error) {
	if s == nil {
		return nil, errors.New("requesting certificate: no signer")
	}
	client = netutil.Client(client, 0)
	var req SigningCertRequest
	req.Credentials.OIDCIdentityToken = idToken
	if csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, signer.AsCryptoSigner(s)); err == nil {
		req.CertificateSigningRequest = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER})
	} else if err := addProofOfPossession(ctx, client, fulcioURL, idToken, s, &req); err != nil {
		return nil, err
	}
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
	data, err := limitio.ReadAll(resp.Body, maxCertResponseSize)
	var tooLarge *limitio.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrCertificateResponse, maxCertResponseSize)
	}
	if err != nil {
		return nil, fmt.Errorf("reading certificate response from %s: %w", u, err)
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

// addProofOfPossession fills req.PublicKeyRequest: s's public key and its signature over the
// claim (email or sub) that the CA's configuration names for the token's issuer.
func addProofOfPossession(ctx context.Context, client *http.Client, fulcioURL, idToken string, s signer.Signer, req *SigningCertRequest) error {
	claims, err := unverifiedClaims(idToken)
	if err != nil {
		return fmt.Errorf("reading the identity token: %w", err)
	}
	claim, err := challengeClaim(ctx, client, fulcioURL, claims["iss"])
	if err != nil {
		return err
	}
	subject := claims[claim]
	if subject == "" {
		return fmt.Errorf("the identity token has no %s claim, which the CA's proof of possession signs", claim)
	}
	h := s.HashFunc().New()
	h.Write([]byte(subject))
	sig, err := s.SignDigest(ctx, h.Sum(nil))
	if err != nil {
		return fmt.Errorf("signing the proof of possession: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		return fmt.Errorf("encoding the public key: %w", err)
	}
	req.PublicKeyRequest = &struct {
		PublicKey struct {
			Algorithm string `json:"algorithm,omitempty"`
			Content   string `json:"content"`
		} `json:"publicKey"`
		ProofOfPossession []byte `json:"proofOfPossession"`
	}{ProofOfPossession: sig}
	req.PublicKeyRequest.PublicKey.Content = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return nil
}

// unverifiedClaims reads the string claims of a token without verifying it: the client only
// needs to know what the CA will ask it to sign.
func unverifiedClaims(token string) (map[string]string, error) {
	if _, err := unverifiedIssuer(token); err != nil {
		return nil, err
	}
	payload := strings.Split(token, ".")[1]
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, err
	}
	var all map[string]any
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range all {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out, nil
}

// challengeClaim asks the CA's configuration which claim its proof of possession signs for
// issuer ("email" or "sub").
func challengeClaim(ctx context.Context, client *http.Client, fulcioURL, issuer string) (string, error) {
	u := strings.TrimSuffix(fulcioURL, "/") + ConfigurationPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("CA configuration: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("CA configuration: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("CA configuration %s: HTTP %d", u, resp.StatusCode)
	}
	var cfg struct {
		Issuers []struct {
			IssuerURL      string `json:"issuerUrl"`
			ChallengeClaim string `json:"challengeClaim"`
		} `json:"issuers"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxCertResponseSize)).Decode(&cfg); err != nil {
		return "", fmt.Errorf("CA configuration %s: %w", u, err)
	}
	for _, i := range cfg.Issuers {
		if i.IssuerURL == issuer && (i.ChallengeClaim == "email" || i.ChallengeClaim == "sub") {
			return i.ChallengeClaim, nil
		}
	}
	return "", fmt.Errorf("the CA at %s does not trust the token's issuer %q", fulcioURL, issuer)
}
