package root

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// Media types of the trust material files. TrustedRootMediaType is the one written: the media
// type the public-good TUF repository serves, and the only one cosign v3.1 and sigstore-go up to
// v1.3 read. ParseTrustedRoot and UnmarshalTrustedRoot read it and the two later spellings.
const (
	TrustedRootMediaType   = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
	SigningConfigMediaType = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
)

// The two later spellings of the trusted root media type, read and never written.
const (
	TrustedRootMediaTypeV01Dotted = "application/vnd.dev.sigstore.trustedroot.v0.1+json"
	TrustedRootMediaTypeV02       = "application/vnd.dev.sigstore.trustedroot.v0.2+json"
)

// TrustedRootMediaTypes are the trusted root media types this package reads.
var TrustedRootMediaTypes = []string{TrustedRootMediaType, TrustedRootMediaTypeV01Dotted, TrustedRootMediaTypeV02}

// MaxTrustFileSize bounds the trusted-root and signing-config files read.
const MaxTrustFileSize = 4 << 20

// MarshalTrustedRoot encodes a trusted root as indented protojson, setting its media type.
func MarshalTrustedRoot(tr *prototrustroot.TrustedRoot) ([]byte, error) {
	tr.MediaType = TrustedRootMediaType
	out, err := protojson.Marshal(tr)
	if err != nil {
		return nil, fmt.Errorf("encoding trusted root: %w", err)
	}
	return stableJSON(out)
}

// stableJSON re-indents protojson output with two spaces: protojson deliberately varies its
// whitespace between runs, and files people diff should not.
func stableJSON(data []byte) ([]byte, error) {
	var compact, out bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, fmt.Errorf("formatting JSON: %w", err)
	}
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("formatting JSON: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// UnmarshalTrustedRoot decodes a trusted root (or a part of one) and checks its media type.
func UnmarshalTrustedRoot(data []byte) (*prototrustroot.TrustedRoot, error) {
	if len(data) > MaxTrustFileSize {
		return nil, fmt.Errorf("trusted root of %d bytes exceeds %d", len(data), MaxTrustFileSize)
	}
	var tr prototrustroot.TrustedRoot
	if err := protojson.Unmarshal(data, &tr); err != nil {
		return nil, fmt.Errorf("decoding trusted root: %w", err)
	}
	if !slices.Contains(TrustedRootMediaTypes, tr.MediaType) {
		return nil, fmt.Errorf("trusted root media type %q, want one of %q", tr.MediaType, TrustedRootMediaTypes)
	}
	return &tr, nil
}

// ReadTrustedRoot reads a trusted root file.
func ReadTrustedRoot(path string) (*prototrustroot.TrustedRoot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading trusted root: %w", err)
	}
	tr, err := UnmarshalTrustedRoot(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tr, nil
}
