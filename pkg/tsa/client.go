package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/cosign-like/cosign-like/internal/netutil"
)

// MaxResponseSize bounds a TSA response the client reads.
const MaxResponseSize = 1 << 20

// ErrInvalidResponse wraps every reason the client refuses a TSA's answer.
var ErrInvalidResponse = errors.New("invalid timestamp response")

// Timestamp asks the RFC 3161 TSA at url (the full timestamp URL, e.g.
// http://127.0.0.1:3004/api/v1/timestamp) to timestamp signature: the request carries the
// SHA-256 of signature, a random nonce and asks for the TSA certificate. It returns the DER
// TimeStampResp (what a Sigstore bundle stores as signedTimestamp) after checking that it is
// granted, signed by the certificate it carries, and answers this digest and nonce. Whether the
// TSA is trusted is for the verifier to decide.
func Timestamp(ctx context.Context, url string, signature []byte) ([]byte, error) {
	return TimestampWithClient(ctx, http.DefaultClient, url, signature)
}

// TimestampWithClient is Timestamp with a given HTTP client. Whatever the client, a request
// that makes no progress for 30 s (connecting, sending, waiting for the answer's headers, or
// within one read of its body) is cancelled, naming the TSA and what was awaited.
func TimestampWithClient(ctx context.Context, client *http.Client, url string, signature []byte) ([]byte, error) {
	client = netutil.Client(client, 0)
	digest := sha256.Sum256(signature)
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generating nonce: %w", err)
	}
	reqDER, err := (&timestamp.Request{
		HashAlgorithm: crypto.SHA256,
		HashedMessage: digest[:],
		Certificates:  true,
		Nonce:         nonce,
	}).Marshal()
	if err != nil {
		return nil, fmt.Errorf("encoding timestamp request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(reqDER))
	if err != nil {
		return nil, fmt.Errorf("timestamp request to %s: %w", url, err)
	}
	req.Header.Set("Content-Type", QueryContentType)
	req.Header.Set("Accept", ReplyContentType)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("timestamp request to %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading timestamp response from %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("timestamp request to %s: HTTP %d: %s", url, resp.StatusCode, bytes.TrimSpace(truncate(body, 512)))
	}
	if len(body) > MaxResponseSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrInvalidResponse, MaxResponseSize)
	}
	if err := CheckResponse(body, digest[:], nonce); err != nil {
		return nil, fmt.Errorf("timestamp from %s: %w", url, err)
	}
	return body, nil
}

// CheckResponse parses a DER TimeStampResp and checks that it is granted, that its signature
// verifies under the certificate it embeds, and that it answers a SHA-256 request for digest
// with nonce (nonce may be nil to skip that check). Errors wrap ErrInvalidResponse.
func CheckResponse(der, digest []byte, nonce *big.Int) error {
	ts, err := timestamp.ParseResponse(der)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidResponse, err)
	}
	if len(ts.Certificates) == 0 {
		return fmt.Errorf("%w: no TSA certificate in the response", ErrInvalidResponse)
	}
	if ts.HashAlgorithm != crypto.SHA256 || !bytes.Equal(ts.HashedMessage, digest) {
		return fmt.Errorf("%w: message imprint does not match the request", ErrInvalidResponse)
	}
	if nonce != nil && (ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0) {
		return fmt.Errorf("%w: nonce does not match the request", ErrInvalidResponse)
	}
	return nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
