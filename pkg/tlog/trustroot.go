package tlog

import (
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	trustrootv1 "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// ErrNoLogKey reports a trusted root that lists no usable key for the requested log.
var ErrNoLogKey = errors.New("no trusted key for this transparency log")

// LogKeysFromTrustedRoot returns the keys of the transparency logs a trusted root
// (trustroot/v1 TrustedRoot JSON) lists. When baseURL is set only logs with that baseUrl are
// returned. Each key's Origin is the hostname of its log's baseUrl (the Rekor v2 convention; a
// Rekor v1 ECDSA key also accepts "<hostname> - <tree ID>"). Validity windows are not applied.
func LogKeysFromTrustedRoot(trustedRoot []byte, baseURL string) ([]LogKey, error) {
	var tr trustrootv1.TrustedRoot
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(trustedRoot, &tr); err != nil {
		return nil, fmt.Errorf("parsing trusted root: %w", err)
	}
	want := strings.TrimSuffix(baseURL, "/")
	var keys []LogKey
	for i, tl := range tr.GetTlogs() {
		if want != "" && strings.TrimSuffix(tl.GetBaseUrl(), "/") != want {
			continue
		}
		pub, err := x509.ParsePKIXPublicKey(tl.GetPublicKey().GetRawBytes())
		if err != nil {
			return nil, fmt.Errorf("trusted root tlog %d (%s): parsing key: %w", i, tl.GetBaseUrl(), err)
		}
		origin, err := OriginFromURL(tl.GetBaseUrl())
		if err != nil {
			return nil, fmt.Errorf("trusted root tlog %d: %w", i, err)
		}
		if ed, ok := pub.(ed25519.PublicKey); ok {
			id := Ed25519KeyID(origin, ed)
			if got := tl.GetLogId().GetKeyId(); len(got) > 0 && string(got) != string(id[:]) {
				return nil, fmt.Errorf("trusted root tlog %d (%s): logId %x is not the checkpoint key ID %x", i, tl.GetBaseUrl(), got, id)
			}
		}
		keys = append(keys, LogKey{Origin: origin, KeyID: tl.GetLogId().GetKeyId(), PublicKey: pub})
	}
	if len(keys) == 0 {
		if want != "" {
			return nil, fmt.Errorf("%w: the trusted root lists no log at %s", ErrNoLogKey, want)
		}
		return nil, fmt.Errorf("%w: the trusted root lists no logs", ErrNoLogKey)
	}
	return keys, nil
}

// LogKeyFromPKIX returns the key of the log at baseURL from its PKIX DER public key (Ed25519 for
// Rekor v2 logs, ECDSA for Rekor v1 logs); the origin is baseURL's hostname.
func LogKeyFromPKIX(baseURL string, der []byte) (LogKey, error) {
	origin, err := OriginFromURL(baseURL)
	if err != nil {
		return LogKey{}, err
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return LogKey{}, fmt.Errorf("parsing log public key: %w", err)
	}
	k := LogKey{Origin: origin, PublicKey: pub}
	if ed, ok := pub.(ed25519.PublicKey); ok {
		id := Ed25519KeyID(origin, ed)
		k.KeyID = id[:]
	}
	return k, nil
}
