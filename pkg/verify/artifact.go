package verify

import (
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

// Artifact is what a bundle is checked against: its digest and, when the caller has them, its
// bytes. Make one with ArtifactDigest, ArtifactBytes, ArtifactReader or ParseArtifactDigest.
type Artifact struct {
	digests map[crypto.Hash][]byte
	data    []byte
	hasData bool
}

// ArtifactDigest is an artifact known only by its digest (for example an image manifest digest).
func ArtifactDigest(h crypto.Hash, digest []byte) Artifact {
	return Artifact{digests: map[crypto.Hash][]byte{h: append([]byte(nil), digest...)}}
}

// ArtifactBytes is an artifact held in memory; its SHA-256, SHA-384 and SHA-512 digests are
// computed.
func ArtifactBytes(data []byte) Artifact {
	s256 := sha256.Sum256(data)
	s384 := sha512.Sum384(data)
	s512 := sha512.Sum512(data)
	return Artifact{
		digests: map[crypto.Hash][]byte{crypto.SHA256: s256[:], crypto.SHA384: s384[:], crypto.SHA512: s512[:]},
		data:    data,
		hasData: true,
	}
}

// ArtifactReader streams r once and keeps its digests, never the bytes (so pure Ed25519
// signatures, which need the message, cannot be checked against it). It computes the hashes
// given, or SHA-256, SHA-384 and SHA-512 when none is: pass BundleHashes(b) to hash only what
// the bundle needs (each hash costs a pass of CPU over the data).
func ArtifactReader(r io.Reader, hashes ...crypto.Hash) (Artifact, error) {
	if len(hashes) == 0 {
		hashes = []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512}
	}
	hs := map[crypto.Hash]hash.Hash{}
	var ws []io.Writer
	for _, h := range hashes {
		if _, dup := hs[h]; dup {
			continue
		}
		switch h {
		case crypto.SHA256:
			hs[h] = sha256.New()
		case crypto.SHA384:
			hs[h] = sha512.New384()
		case crypto.SHA512:
			hs[h] = sha512.New()
		default:
			return Artifact{}, fmt.Errorf("artifact hash %s not supported (SHA-256, SHA-384, SHA-512)", h)
		}
		ws = append(ws, hs[h])
	}
	if _, err := io.Copy(io.MultiWriter(ws...), r); err != nil {
		return Artifact{}, fmt.Errorf("reading artifact: %w", err)
	}
	a := Artifact{digests: map[crypto.Hash][]byte{}}
	for h, hh := range hs {
		a.digests[h] = hh.Sum(nil)
	}
	return a, nil
}

// BundleHashes returns the hashes of the artifact a bundle's verification needs: the message
// digest's algorithm for message signatures, SHA-256 (the in-toto subject digest) for DSSE.
func BundleHashes(b *protobundle.Bundle) []crypto.Hash {
	if md := b.GetMessageSignature().GetMessageDigest(); md != nil {
		if h := bundle.HashFunc(md.GetAlgorithm()); h != 0 {
			return []crypto.Hash{h}
		}
	}
	return []crypto.Hash{crypto.SHA256}
}

// ParseArtifactDigest reads "sha256:<hex>" (also sha384, sha512) as an artifact digest.
func ParseArtifactDigest(s string) (Artifact, error) {
	alg, hexPart, ok := strings.Cut(s, ":")
	if !ok {
		return Artifact{}, fmt.Errorf("artifact digest %q: want <algorithm>:<hex>", s)
	}
	var h crypto.Hash
	switch alg {
	case "sha256":
		h = crypto.SHA256
	case "sha384":
		h = crypto.SHA384
	case "sha512":
		h = crypto.SHA512
	default:
		return Artifact{}, fmt.Errorf("artifact digest %q: algorithm %q not supported (sha256, sha384, sha512)", s, alg)
	}
	d, err := hex.DecodeString(hexPart)
	if err != nil || len(d) != h.Size() {
		return Artifact{}, fmt.Errorf("artifact digest %q: want %d hex characters", s, 2*h.Size())
	}
	return ArtifactDigest(h, d), nil
}

// Digest returns the artifact's digest under h, if known.
func (a Artifact) Digest(h crypto.Hash) ([]byte, bool) {
	d, ok := a.digests[h]
	return d, ok
}

// Bytes returns the artifact's bytes, if the caller gave them.
func (a Artifact) Bytes() ([]byte, bool) { return a.data, a.hasData }

// empty reports whether nothing is known about the artifact.
func (a Artifact) empty() bool { return len(a.digests) == 0 }

// describe names the known digests for error messages.
func (a Artifact) describe() string {
	var parts []string
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		if d, ok := a.digests[h]; ok {
			parts = append(parts, hashName(h)+":"+hex.EncodeToString(d))
		}
	}
	return strings.Join(parts, ", ")
}

// hashName is the lowercase name of a hash as used in digest strings.
func hashName(h crypto.Hash) string {
	switch h {
	case crypto.SHA256:
		return "sha256"
	case crypto.SHA384:
		return "sha384"
	case crypto.SHA512:
		return "sha512"
	}
	return h.String()
}
