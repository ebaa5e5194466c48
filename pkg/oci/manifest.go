package oci

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// manifest is what cosign-like reads of an image manifest or an index. Layers holds an image
// manifest's layers, Manifests an index's entries.
type manifest struct {
	SchemaVersion int64
	MediaType     string
	ArtifactType  string
	Config        *v1.Descriptor
	Layers        []v1.Descriptor
	Manifests     []v1.Descriptor
	Subject       *v1.Descriptor
	Annotations   map[string]string
}

// isIndex reports whether the manifest is an index (it has entries or says so).
func (m *manifest) isIndex() bool {
	return types.MediaType(m.MediaType).IsIndex() || (m.Manifests != nil && m.Config == nil)
}

// parseManifest decodes a manifest or index from r, streaming: it stops with a LimitError as
// soon as the layers or manifests array holds more than maxEntries entries, so a manifest
// declaring a million layers costs a few hundred kilobytes of reading, not its full size.
// where names the manifest in errors.
func parseManifest(r io.Reader, maxEntries int, where string) (*manifest, error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", where, ErrInvalidManifest, err)
	}
	m := &manifest{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", where, ErrInvalidManifest, err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%s: %w: object key is %v", where, ErrInvalidManifest, tok)
		}
		switch key {
		case "layers", "manifests":
			list, err := decodeDescriptors(dec, maxEntries, key, where)
			if err != nil {
				return nil, err
			}
			if key == "layers" {
				m.Layers = list
			} else {
				m.Manifests = list
			}
			continue
		case "schemaVersion":
			err = dec.Decode(&m.SchemaVersion)
		case "mediaType":
			err = dec.Decode(&m.MediaType)
		case "artifactType":
			err = dec.Decode(&m.ArtifactType)
		case "config":
			err = decodeDescriptorPtr(dec, &m.Config)
		case "subject":
			err = decodeDescriptorPtr(dec, &m.Subject)
		case "annotations":
			err = dec.Decode(&m.Annotations)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w: field %q: %w", where, ErrInvalidManifest, key, err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", where, ErrInvalidManifest, err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("%s: %w: schemaVersion %d, want 2", where, ErrInvalidManifest, m.SchemaVersion)
	}
	for _, d := range append(append([]v1.Descriptor{}, m.Layers...), m.Manifests...) {
		if err := checkDescriptor(d); err != nil {
			return nil, fmt.Errorf("%s: %w: %w", where, ErrInvalidManifest, err)
		}
	}
	for _, d := range []*v1.Descriptor{m.Config, m.Subject} {
		if d != nil {
			if err := checkDescriptor(*d); err != nil {
				return nil, fmt.Errorf("%s: %w: %w", where, ErrInvalidManifest, err)
			}
		}
	}
	return m, nil
}

func checkDescriptor(d v1.Descriptor) error {
	if d.Digest.Algorithm != "sha256" && d.Digest.Algorithm != "sha512" {
		return fmt.Errorf("descriptor digest %q: unsupported algorithm", d.Digest)
	}
	if d.Size < 0 {
		return fmt.Errorf("descriptor %s: negative size %d", d.Digest, d.Size)
	}
	return nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %v", string(want), tok)
	}
	return nil
}

func decodeDescriptorPtr(dec *json.Decoder, dst **v1.Descriptor) error {
	var d *v1.Descriptor
	if err := dec.Decode(&d); err != nil {
		return err
	}
	*dst = d
	return nil
}

// decodeDescriptors reads a JSON array of descriptors, failing as soon as it holds more than max.
func decodeDescriptors(dec *json.Decoder, max int, field, where string) ([]v1.Descriptor, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: field %q: %w", where, ErrInvalidManifest, field, err)
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("%s: %w: field %q is not an array", where, ErrInvalidManifest, field)
	}
	list := []v1.Descriptor{}
	for dec.More() {
		if len(list) >= max {
			what := "layers"
			if field == "manifests" {
				what = "manifest entries"
			}
			return nil, &LimitError{What: what, Limit: int64(max), Where: where}
		}
		var d v1.Descriptor
		if err := dec.Decode(&d); err != nil {
			return nil, fmt.Errorf("%s: %w: %s[%d]: %w", where, ErrInvalidManifest, field, len(list), err)
		}
		list = append(list, d)
	}
	if err := expectDelim(dec, ']'); err != nil {
		return nil, fmt.Errorf("%s: %w: field %q: %w", where, ErrInvalidManifest, field, err)
	}
	return list, nil
}

// boundedReader reads at most max bytes and fails with a LimitError past them.
type boundedReader struct {
	r     io.Reader
	left  int64
	max   int64
	where string
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe for one more byte: a body of exactly max bytes is fine.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			return 0, &LimitError{What: "bytes", Limit: b.max, Where: b.where}
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// digestingReader copies what it reads into a buffer and a hash.
type digestingReader struct {
	r   io.Reader
	buf bytes.Buffer
	h   hash.Hash
}

func newDigestingReader(r io.Reader) *digestingReader {
	return &digestingReader{r: r, h: sha256.New()}
}

func (d *digestingReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if n > 0 {
		d.buf.Write(p[:n])
		d.h.Write(p[:n])
	}
	return n, err
}

func (d *digestingReader) digest() v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(d.h.Sum(nil))}
}

// readManifestBody parses a manifest from body (at most maxSize bytes) and returns it with its
// raw bytes and sha256 digest.
func readManifestBody(body io.Reader, maxSize int64, maxEntries int, where string) (*manifest, []byte, v1.Hash, error) {
	dr := newDigestingReader(&boundedReader{r: body, left: maxSize, max: maxSize, where: where})
	m, err := parseManifest(dr, maxEntries, where)
	if err != nil {
		var le *LimitError
		if errors.As(err, &le) && le.What == "bytes" {
			return nil, nil, v1.Hash{}, fmt.Errorf("%s: manifest larger than the limit of %d bytes: %w", where, maxSize, ErrLimitExceeded)
		}
		return nil, nil, v1.Hash{}, err
	}
	// Read what follows the object (whitespace) so the digest covers the whole body.
	if _, err := io.Copy(io.Discard, dr); err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			return nil, nil, v1.Hash{}, fmt.Errorf("%s: manifest larger than the limit of %d bytes: %w", where, maxSize, ErrLimitExceeded)
		}
		return nil, nil, v1.Hash{}, fmt.Errorf("%s: reading manifest: %w", where, err)
	}
	return m, dr.buf.Bytes(), dr.digest(), nil
}
