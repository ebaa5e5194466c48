package client

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// Witness gathers what makes a signature checkable by others: a certificate for a keyless
// signer's key, an RFC 3161 timestamp and a transparency log entry. A nil *Witness adds none of
// them: the bundle then carries the signature and the public key only.
type Witness struct {
	// RekorURL is the transparency log that records the signature; empty writes no entry.
	RekorURL string
}

// ErrLegacyNoLog is returned when a legacy-layout signature is asked to carry a log entry: cosign's
// legacy annotations hold only a Rekor v1 signed entry timestamp, which a tile-based log does not
// issue.
var ErrLegacyNoLog = errors.New("the legacy layout (--new-bundle-format=false) cannot carry a Rekor v2 log entry: sign with the new bundle format, or with --tlog-upload=false")

// finish builds the bundle with build and adds the witness's material to it.
func (w *Witness) finish(ctx context.Context, s signer.Signer, sig []byte, h crypto.Hash, digest []byte,
	build func(*protobundle.VerificationMaterial) *protobundle.Bundle) (*protobundle.Bundle, error) {
	vm, err := bundle.KeyMaterial(s.Public())
	if err != nil {
		return nil, err
	}
	b := build(vm)
	if w == nil {
		return b, nil
	}
	if w.RekorURL != "" {
		return nil, fmt.Errorf("writing to the transparency log at %s: no log client in this build", w.RekorURL)
	}
	return b, nil
}

// legacyAnnotations returns the layer annotations of a legacy signature.
func (w *Witness) legacyAnnotations(ctx context.Context, s signer.Signer, sig, digest []byte) (map[string]string, error) {
	ann := map[string]string{oci.AnnotationSignature: base64.StdEncoding.EncodeToString(sig)}
	if w == nil {
		return ann, nil
	}
	if w.RekorURL != "" {
		return nil, ErrLegacyNoLog
	}
	return ann, nil
}
