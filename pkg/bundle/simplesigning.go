package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SimpleSigningType is the critical.type of cosign's container image signature payload.
const SimpleSigningType = "cosign container image signature"

// MaxSimpleSigningSize is the largest simple-signing payload ParseSimpleSigning reads, in bytes.
const MaxSimpleSigningSize = 1 << 20

// ErrInvalidSimpleSigning is wrapped by every error ParseSimpleSigning returns.
var ErrInvalidSimpleSigning = errors.New("invalid simple-signing payload")

// SimpleSigning is cosign's legacy image signature payload (the containers/image "simple
// signing" format with cosign's type).
type SimpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	// Optional holds the annotations. ParseSimpleSigning keeps each number as the json.Number
	// it was written as, so 1796227528 stays 1796227528 (not a float64).
	Optional map[string]any `json:"optional"`
}

// NewSimpleSigning returns the payload cosign writes when it signs an image in the legacy
// layout: dockerRef is the repository name (no tag or digest), digest "sha256:<hex>", optional
// the -a annotations (written as null when nil, as cosign does). The bytes match cosign's,
// which encodes this structure with encoding/json.
func NewSimpleSigning(dockerRef, digest string, optional map[string]any) ([]byte, error) {
	if dockerRef == "" {
		return nil, fmt.Errorf("%w: empty docker-reference", ErrInvalidSimpleSigning)
	}
	if err := checkImageDigest(digest); err != nil {
		return nil, err
	}
	var s SimpleSigning
	s.Critical.Identity.DockerReference = dockerRef
	s.Critical.Image.DockerManifestDigest = digest
	s.Critical.Type = SimpleSigningType
	s.Optional = optional
	out, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSimpleSigning, err)
	}
	return out, nil
}

// ParseSimpleSigning reads a simple-signing payload: at most MaxSimpleSigningSize bytes, one
// JSON object with critical.type SimpleSigningType and a "sha256:<64 hex>" manifest digest.
func ParseSimpleSigning(data []byte) (*SimpleSigning, error) {
	if len(data) > MaxSimpleSigningSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrInvalidSimpleSigning, len(data), MaxSimpleSigningSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var s SimpleSigning
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSimpleSigning, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrInvalidSimpleSigning)
	}
	if s.Critical.Type != SimpleSigningType {
		return nil, fmt.Errorf("%w: critical.type %q, want %q", ErrInvalidSimpleSigning, s.Critical.Type, SimpleSigningType)
	}
	if err := checkImageDigest(s.Critical.Image.DockerManifestDigest); err != nil {
		return nil, err
	}
	return &s, nil
}

func checkImageDigest(digest string) error {
	hexPart, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(hexPart) != 64 || strings.Trim(hexPart, "0123456789abcdef") != "" {
		return fmt.Errorf("%w: docker-manifest-digest %q is not sha256:<64 lowercase hex>", ErrInvalidSimpleSigning, digest)
	}
	return nil
}
