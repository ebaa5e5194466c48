package root

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// ErrNoLogKey reports a trusted root that lists no usable key for the requested log.
var ErrNoLogKey = errors.New("no trusted key for this transparency log")

// LogKeys returns the checkpoint keys of the transparency logs the trusted root lists, for the
// log client and the signing flows. When baseURL is set only logs with that baseUrl are returned.
// Each key's Origin is the hostname of its log's baseUrl (the Rekor v2 convention; a Rekor v1
// ECDSA key also accepts "<hostname> - <tree ID>"). Validity windows are not applied here: the
// verifier applies them to the time an entry was made.
func (r *TrustedRoot) LogKeys(baseURL string) ([]tlog.LogKey, error) {
	want := strings.TrimSuffix(baseURL, "/")
	var keys []tlog.LogKey
	for i, l := range r.tlogs {
		if want != "" && strings.TrimSuffix(l.BaseURL, "/") != want {
			continue
		}
		origin, err := tlog.OriginFromURL(l.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("trusted root tlog %d: %w", i, err)
		}
		if ed, ok := l.PublicKey.(ed25519.PublicKey); ok {
			id := tlog.Ed25519KeyID(origin, ed)
			if !bytes.Equal(l.ID, id[:]) {
				return nil, fmt.Errorf("trusted root tlog %d (%s): logId %x is not the checkpoint key ID %x", i, l.BaseURL, l.ID, id)
			}
		}
		keys = append(keys, tlog.LogKey{Origin: origin, KeyID: l.ID, PublicKey: l.PublicKey})
	}
	if len(keys) == 0 {
		if want != "" {
			return nil, fmt.Errorf("%w: the trusted root lists no log at %s", ErrNoLogKey, want)
		}
		return nil, fmt.Errorf("%w: the trusted root lists no logs", ErrNoLogKey)
	}
	return keys, nil
}
