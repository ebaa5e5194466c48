package ca

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
)

// Paths of the Fulcio v2 API.
const (
	SigningCertPath   = "/api/v2/signingCert"
	TrustBundlePath   = "/api/v2/trustBundle"
	ConfigurationPath = "/api/v2/configuration"
	// MaxRequestSize bounds a signingCert body (a token of MaxTokenSize plus a key or CSR).
	MaxRequestSize = 64 << 10
)

// ErrBadRequest wraps malformed signingCert requests.
var ErrBadRequest = errors.New("bad signingCert request")

// SigningCertRequest is the JSON body of POST /api/v2/signingCert, as Fulcio's v2 API has it.
type SigningCertRequest struct {
	Credentials struct {
		OIDCIdentityToken string `json:"oidcIdentityToken"`
	} `json:"credentials"`
	PublicKeyRequest *struct {
		PublicKey struct {
			Algorithm string `json:"algorithm,omitempty"`
			Content   string `json:"content"`
		} `json:"publicKey"`
		ProofOfPossession []byte `json:"proofOfPossession"`
	} `json:"publicKeyRequest,omitempty"`
	CertificateSigningRequest []byte `json:"certificateSigningRequest,omitempty"`
}

// CertificateChain is a list of PEM certificates, leaf first.
type CertificateChain struct {
	Certificates []string `json:"certificates"`
}

// SigningCertResponse is the answer to signingCert: always a certificate with an embedded SCT.
type SigningCertResponse struct {
	SignedCertificateEmbeddedSct *struct {
		Chain CertificateChain `json:"chain"`
	} `json:"signedCertificateEmbeddedSct,omitempty"`
	SignedCertificateDetachedSct *struct {
		Chain CertificateChain `json:"chain"`
	} `json:"signedCertificateDetachedSct,omitempty"`
}

// ParseSigningCertRequest decodes and checks a signingCert body. bearer is the token of an
// "Authorization: Bearer" header, which clients such as sigstore-go send instead of
// credentials.oidcIdentityToken (may be empty). Errors wrap ErrBadRequest (or
// ErrUnsupportedKey for a key that does not parse or is refused).
func ParseSigningCertRequest(body []byte, bearer string) (token string, proof KeyProof, err error) {
	var req SigningCertRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return "", KeyProof{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if dec.More() {
		return "", KeyProof{}, fmt.Errorf("%w: data after the JSON object", ErrBadRequest)
	}
	token = req.Credentials.OIDCIdentityToken
	switch {
	case token == "" && bearer == "":
		return "", KeyProof{}, fmt.Errorf("%w: credentials.oidcIdentityToken (or an Authorization: Bearer header) is required", ErrBadRequest)
	case token == "":
		token = bearer
	case bearer != "" && bearer != token:
		return "", KeyProof{}, fmt.Errorf("%w: the Authorization header and credentials.oidcIdentityToken carry different tokens", ErrBadRequest)
	}
	switch {
	case req.PublicKeyRequest != nil && len(req.CertificateSigningRequest) > 0:
		return "", KeyProof{}, fmt.Errorf("%w: give publicKeyRequest or certificateSigningRequest, not both", ErrBadRequest)
	case len(req.CertificateSigningRequest) > 0:
		proof.CSR = req.CertificateSigningRequest
	case req.PublicKeyRequest != nil:
		if req.PublicKeyRequest.PublicKey.Content == "" {
			return "", KeyProof{}, fmt.Errorf("%w: publicKeyRequest.publicKey.content is required", ErrBadRequest)
		}
		pub, err := ParsePublicKeyPEM([]byte(req.PublicKeyRequest.PublicKey.Content))
		if err != nil {
			return "", KeyProof{}, err
		}
		if len(req.PublicKeyRequest.ProofOfPossession) == 0 {
			return "", KeyProof{}, fmt.Errorf("%w: publicKeyRequest.proofOfPossession is required", ErrBadRequest)
		}
		proof.PublicKey, proof.Signature = pub, req.PublicKeyRequest.ProofOfPossession
	default:
		return "", KeyProof{}, fmt.Errorf("%w: publicKeyRequest or certificateSigningRequest is required", ErrBadRequest)
	}
	return token, proof, nil
}

// apiError is the JSON error body (gRPC status codes, as Fulcio's gateway answers).
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Handler serves the Fulcio v2 API, Fulcio's legacy v1 API, /healthz and /metrics (metrics
// named cosign_like_ca_...).
func (a *Server) Handler() http.Handler { return a.handler }

// api is the CA's own part of Handler.
func (a *Server) api() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+SigningCertPath, a.handleSigningCert)
	mux.HandleFunc("POST "+LegacySigningCertPath, a.handleLegacySigningCert)
	mux.HandleFunc("GET "+RootCertPath, a.handleRootCert)
	bundle := pemChain(a.chain)
	mux.HandleFunc("GET "+TrustBundlePath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"chains": []CertificateChain{bundle}})
	})
	mux.HandleFunc("GET "+ConfigurationPath, func(w http.ResponseWriter, _ *http.Request) {
		type issuer struct {
			IssuerURL      string `json:"issuerUrl"`
			Audience       string `json:"audience"`
			ChallengeClaim string `json:"challengeClaim"`
		}
		var out []issuer
		for _, ic := range a.tokens.Issuers() {
			claim := "sub"
			if ic.Type == IssuerEmail {
				claim = "email"
			}
			out = append(out, issuer{IssuerURL: ic.URL, Audience: ic.ClientID, ChallengeClaim: claim})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].IssuerURL < out[j].IssuerURL })
		writeJSON(w, http.StatusOK, map[string]any{"issuers": out})
	})
	return mux
}

func (a *Server) handleSigningCert(w http.ResponseWriter, r *http.Request) {
	body, err := httpserver.ReadBody(w, r, MaxRequestSize)
	if err != nil {
		if errors.Is(err, httpserver.ErrBodyTooLarge) {
			writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Code: 3, Message: err.Error()})
			return
		}
		writeJSON(w, http.StatusBadRequest, apiError{Code: 3, Message: err.Error()})
		return
	}
	token, proof, err := ParseSigningCertRequest(body, bearerToken(r))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Code: 3, Message: err.Error()})
		return
	}
	chain, err := a.Issue(r.Context(), token, proof)
	if err != nil {
		code, grpc := http.StatusInternalServerError, 13
		switch {
		case errors.Is(err, ErrInvalidToken), errors.Is(err, ErrIdentity):
			code, grpc = http.StatusUnauthorized, 16
		case errors.Is(err, ErrProof), errors.Is(err, ErrUnsupportedKey), errors.Is(err, ErrBadRequest):
			code, grpc = http.StatusBadRequest, 3
		case errors.Is(err, ErrCTLog):
			code, grpc = http.StatusServiceUnavailable, 14
		}
		if code >= 500 {
			a.logger.Error("issuing certificate", "error", err)
		}
		writeJSON(w, code, apiError{Code: grpc, Message: err.Error()})
		return
	}
	var resp SigningCertResponse
	resp.SignedCertificateEmbeddedSct = &struct {
		Chain CertificateChain `json:"chain"`
	}{}
	resp.SignedCertificateEmbeddedSct.Chain = pemChain(chain)
	// 200, as Fulcio's v2 HTTP API answers (sigstore-go accepts nothing else).
	writeJSON(w, http.StatusOK, resp)
}

// bearerToken returns the token of an "Authorization: Bearer" header, or "".
func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// pemChain encodes each certificate as its own PEM string.
func pemChain(certs []*x509.Certificate) CertificateChain {
	var out CertificateChain
	for _, c := range certs {
		out.Certificates = append(out.Certificates, string(pki.EncodeCertificates([]*x509.Certificate{c})))
	}
	return out
}
