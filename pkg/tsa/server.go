package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
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

// Server signs RFC 3161 timestamps with one key and certificate chain.
type Server struct {
	signer   crypto.Signer
	chain    []*x509.Certificate
	chainPEM []byte
	handler  http.Handler
	logger   *slog.Logger
	now      func() time.Time
}

// Options configure Open and New.
type Options struct {
	// Logger receives the TSA's messages and request logs; nil discards them.
	Logger *slog.Logger
	// SignerOptions open a key kept in a PKCS#11 token (PIN, module path); Open only.
	SignerOptions []signer.Option
}

// Config is what New makes a TSA of.
type Config struct {
	// Key signs the timestamps: ECDSA.
	Key crypto.Signer
	// Chain is the TSA certificate, which must match Key, then its issuers.
	Chain []*x509.Certificate
	Options
}

// Open reads the TSA in dir written by Init: the key file, or the PKCS#11 key it names.
func Open(ctx context.Context, dir string, opts Options) (*Server, error) {
	key, err := pki.LoadServerKey(ctx, dir, keyFiles, opts.SignerOptions...)
	if err != nil {
		return nil, fmt.Errorf("opening the TSA key: %w", err)
	}
	chain, err := pki.ReadCertificates(filepath.Join(dir, ChainFile))
	if err != nil {
		return nil, err
	}
	return New(ctx, Config{Key: key, Chain: chain, Options: opts})
}

// New makes a TSA from a signing key and its chain (TSA certificate first). The certificate
// must match the key and carry the critical timeStamping extended key usage.
func New(_ context.Context, cfg Config) (*Server, error) {
	if len(cfg.Chain) == 0 {
		return nil, errors.New("TSA: empty certificate chain")
	}
	if cfg.Key == nil {
		return nil, errors.New("TSA: no signing key")
	}
	leaf := cfg.Chain[0]
	if !publicKeysEqual(leaf.PublicKey, cfg.Key.Public()) {
		return nil, errors.New("TSA: certificate does not match the signing key")
	}
	if err := checkTimestampingEKU(leaf); err != nil {
		return nil, err
	}
	if _, ok := cfg.Key.Public().(*ecdsa.PublicKey); !ok {
		return nil, fmt.Errorf("TSA: %T signing key, ECDSA required", cfg.Key.Public())
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Server{signer: cfg.Key, chain: cfg.Chain, chainPEM: pki.EncodeCertificates(cfg.Chain), logger: logger, now: time.Now}
	a.handler = httpserver.Instrument("tsa", a.api(), httpserver.Options{Logger: logger})
	return a, nil
}

// Close releases nothing: the TSA holds no resources beyond its key.
func (a *Server) Close(context.Context) error { return nil }

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
func (a *Server) Chain() []*x509.Certificate { return a.chain }

// Handler serves the TSA API, /healthz and /metrics (metrics named cosign_like_tsa_...).
func (a *Server) Handler() http.Handler { return a.handler }

// api is the TSA's own part of Handler.
func (a *Server) api() http.Handler {
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

// handleTimestamp answers both request forms, refusing what timestamp-authority refuses with
// the status it gives: 422 for an empty body, 415 or 400 for the Content-Type (requestFormOf),
// 400 for a request it cannot use. Error bodies are JSON {"code", "message"}, as its are.
func (a *Server) handleTimestamp(w http.ResponseWriter, r *http.Request) {
	if !bodyPresent(r) {
		writeError(w, http.StatusUnprocessableEntity, "request body is required")
		return
	}
	form, err := requestFormOf(r.Header.Get("Content-Type"))
	if err != nil {
		var fe *formError
		errors.As(err, &fe)
		writeError(w, fe.status, "%s", fe.msg)
		return
	}
	limit, tooLarge := int64(MaxRequestSize), http.StatusRequestEntityTooLarge
	if form == formJSON {
		limit, tooLarge = MaxJSONRequestSize, http.StatusBadRequest
	}
	body, err := httpserver.ReadBody(w, r, limit)
	if err != nil {
		if errors.Is(err, httpserver.ErrBodyTooLarge) {
			writeError(w, tooLarge, "%v", err)
			return
		}
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	var req *timestamp.Request
	if form == formJSON {
		req, err = ParseJSONRequest(body)
	} else {
		req, err = ParseRequest(body)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	resp, err := a.respondTo(req)
	if err != nil {
		a.logger.Error("signing timestamp", "error", err)
		writeError(w, http.StatusInternalServerError, "signing timestamp failed")
		return
	}
	w.Header().Set("Content-Type", ReplyContentType)
	_, _ = w.Write(resp)
}

// bodyPresent tells whether r has a body, reading ahead one byte when its length is unknown.
func bodyPresent(r *http.Request) bool {
	if r.ContentLength != -1 {
		return r.ContentLength > 0
	}
	var first [1]byte
	n, _ := io.ReadFull(r.Body, first[:])
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(first[:n]), r.Body), r.Body}
	return n > 0
}

// writeError answers an error as timestamp-authority does: JSON {"code": status, "message"}.
// Messages never echo request bodies.
func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{status, fmt.Sprintf(format, args...)})
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
	if err := checkRequest(req); err != nil {
		return nil, err
	}
	return req, nil
}

// checkRequest holds a parsed request, of either form, to what this TSA timestamps.
func checkRequest(req *timestamp.Request) error {
	if err := checkHashAlgorithm(req.HashAlgorithm); err != nil {
		return err
	}
	if len(req.HashedMessage) != req.HashAlgorithm.Size() || len(req.HashedMessage) > maxHashedMsgLength {
		return fmt.Errorf("%w: message imprint of %d bytes for %v, want %d", ErrBadRequest,
			len(req.HashedMessage), req.HashAlgorithm, req.HashAlgorithm.Size())
	}
	if len(req.TSAPolicyOID) > 0 && !req.TSAPolicyOID.Equal(PolicyOID) {
		return fmt.Errorf("%w: policy %s not accepted (this TSA uses %s)", ErrBadRequest, req.TSAPolicyOID, PolicyOID)
	}
	if len(req.Extensions) > 0 {
		return fmt.Errorf("%w: request extensions are not accepted", ErrBadRequest)
	}
	if req.Nonce != nil && (req.Nonce.Sign() < 0 || req.Nonce.BitLen() > 256) {
		return fmt.Errorf("%w: nonce must be a non-negative integer of at most 256 bits", ErrBadRequest)
	}
	return nil
}

func checkHashAlgorithm(h crypto.Hash) error {
	switch h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
		return nil
	}
	return fmt.Errorf("%w: hash algorithm %v not accepted (SHA-256, SHA-384 or SHA-512)", ErrBadRequest, h)
}

// Respond answers a DER TimeStampReq with a DER TimeStampResp (status granted), or an error
// wrapping ErrBadRequest for a request this TSA refuses.
func (a *Server) Respond(der []byte) ([]byte, error) {
	req, err := ParseRequest(der)
	if err != nil {
		return nil, err
	}
	return a.respondTo(req)
}

// respondTo signs the timestamp that answers a checked request, whatever form it came in.
func (a *Server) respondTo(req *timestamp.Request) ([]byte, error) {
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
