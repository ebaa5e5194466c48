package tsa

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/ca/srv"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/digitorus/timestamp"
)

// Paths and content types of the TSA HTTP API.
const (
	TimestampPath      = "/api/v1/timestamp"
	CertChainPath      = "/api/v1/timestamp/certchain"
	QueryContentType   = "application/timestamp-query"
	ReplyContentType   = "application/timestamp-reply"
	MaxRequestSize     = 16 << 10
	timestampAccuracy  = time.Second
	maxHashedMsgLength = 64
)

// Authority signs RFC 3161 timestamps with one key and certificate chain.
type Authority struct {
	signer   crypto.Signer
	chain    []*x509.Certificate
	chainPEM []byte
	logger   *slog.Logger
	now      func() time.Time
}

// Load reads the TSA in dir written by Init; opts open a key kept in a PKCS#11 token.
func Load(ctx context.Context, dir string, logger *slog.Logger, opts ...signer.Option) (*Authority, error) {
	key, err := pki.LoadServerKey(ctx, dir, keyFiles, opts...)
	if err != nil {
		return nil, fmt.Errorf("opening the TSA key: %w", err)
	}
	chain, err := pki.ReadCertificates(filepath.Join(dir, ChainFile))
	if err != nil {
		return nil, err
	}
	return New(key, chain, logger)
}

// New makes an Authority from a signing key and its chain (TSA certificate first). The
// certificate must match the key and carry the critical timeStamping extended key usage.
func New(key crypto.Signer, chain []*x509.Certificate, logger *slog.Logger) (*Authority, error) {
	if len(chain) == 0 {
		return nil, errors.New("TSA: empty certificate chain")
	}
	leaf := chain[0]
	if !publicKeysEqual(leaf.PublicKey, key.Public()) {
		return nil, errors.New("TSA: certificate does not match the signing key")
	}
	if err := checkTimestampingEKU(leaf); err != nil {
		return nil, err
	}
	if _, ok := key.Public().(*ecdsa.PublicKey); !ok {
		return nil, fmt.Errorf("TSA: %T signing key, ECDSA required", key.Public())
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Authority{signer: key, chain: chain, chainPEM: pki.EncodeCertificates(chain), logger: logger, now: time.Now}, nil
}

// checkTimestampingEKU requires exactly the timeStamping extended key usage, critical.
func checkTimestampingEKU(c *x509.Certificate) error {
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(c.UnknownExtKeyUsage) != 0 {
		return errors.New("TSA: certificate must have exactly the timeStamping extended key usage")
	}
	for _, e := range c.Extensions {
		if e.Id.Equal([]int{2, 5, 29, 37}) && !e.Critical {
			return errors.New("TSA: timeStamping extended key usage must be critical")
		}
	}
	return nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ka.Equal(b)
}

// Chain returns the TSA certificate chain, TSA certificate first.
func (a *Authority) Chain() []*x509.Certificate { return a.chain }

// Handler serves the TSA API (without /healthz and /metrics: wrap it with srv.Instrumented).
func (a *Authority) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+TimestampPath, a.handleTimestamp)
	mux.HandleFunc("GET "+CertChainPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		_, _ = w.Write(a.chainPEM)
	})
	return mux
}

// ErrBadRequest wraps every reason a timestamp request is refused.
var ErrBadRequest = errors.New("bad timestamp request")

func (a *Authority) handleTimestamp(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != QueryContentType {
		srv.Error(w, http.StatusUnsupportedMediaType, "content type %q, want %s", ct, QueryContentType)
		return
	}
	body, err := srv.ReadBody(w, r, MaxRequestSize)
	if err != nil {
		if errors.Is(err, srv.ErrBodyTooLarge) {
			srv.Error(w, http.StatusRequestEntityTooLarge, "%v", err)
			return
		}
		srv.Error(w, http.StatusBadRequest, "%v", err)
		return
	}
	resp, err := a.Respond(body)
	if err != nil {
		if errors.Is(err, ErrBadRequest) {
			srv.Error(w, http.StatusBadRequest, "%v", err)
			return
		}
		a.logger.Error("signing timestamp", "error", err)
		srv.Error(w, http.StatusInternalServerError, "signing timestamp failed")
		return
	}
	w.Header().Set("Content-Type", ReplyContentType)
	_, _ = w.Write(resp)
}

// ParseRequest parses and checks a DER TimeStampReq: version 1, a SHA-256/384/512 message
// imprint of the right length, no policy other than PolicyOID, no extensions. Errors wrap
// ErrBadRequest.
func ParseRequest(der []byte) (*timestamp.Request, error) {
	if len(der) > MaxRequestSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrBadRequest, len(der), MaxRequestSize)
	}
	req, err := timestamp.ParseRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	switch req.HashAlgorithm {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return nil, fmt.Errorf("%w: hash algorithm %v not accepted (SHA-256, SHA-384 or SHA-512)", ErrBadRequest, req.HashAlgorithm)
	}
	if len(req.HashedMessage) != req.HashAlgorithm.Size() || len(req.HashedMessage) > maxHashedMsgLength {
		return nil, fmt.Errorf("%w: message imprint of %d bytes for %v, want %d", ErrBadRequest,
			len(req.HashedMessage), req.HashAlgorithm, req.HashAlgorithm.Size())
	}
	if len(req.TSAPolicyOID) > 0 && !req.TSAPolicyOID.Equal(PolicyOID) {
		return nil, fmt.Errorf("%w: policy %s not accepted (this TSA uses %s)", ErrBadRequest, req.TSAPolicyOID, PolicyOID)
	}
	if len(req.Extensions) > 0 {
		return nil, fmt.Errorf("%w: request extensions are not accepted", ErrBadRequest)
	}
	if req.Nonce != nil && (req.Nonce.Sign() < 0 || req.Nonce.BitLen() > 256) {
		return nil, fmt.Errorf("%w: nonce must be a non-negative integer of at most 256 bits", ErrBadRequest)
	}
	return req, nil
}

// Respond answers a DER TimeStampReq with a DER TimeStampResp (status granted), or an error
// wrapping ErrBadRequest for a request this TSA refuses.
func (a *Authority) Respond(der []byte) ([]byte, error) {
	req, err := ParseRequest(der)
	if err != nil {
		return nil, err
	}
	ts := timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              a.now().UTC(),
		Accuracy:          timestampAccuracy,
		Policy:            PolicyOID,
		Nonce:             req.Nonce,
		AddTSACertificate: req.Certificates,
	}
	resp, err := ts.CreateResponseWithOpts(a.chain[0], a.signer, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("creating timestamp response: %w", err)
	}
	return resp, nil
}
