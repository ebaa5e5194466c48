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

// ArtifactReader streams r once and keeps its SHA-256, SHA-384 and SHA-512 digests, never the
// bytes (so pure Ed25519 signatures, which need the message, cannot be checked against it).
func ArtifactReader(r io.Reader) (Artifact, error) {
	hs := map[crypto.Hash]hash.Hash{crypto.SHA256: sha256.New(), crypto.SHA384: sha512.New384(), crypto.SHA512: sha512.New()}
	w := io.MultiWriter(hs[crypto.SHA256], hs[crypto.SHA384], hs[crypto.SHA512])
	if _, err := io.Copy(w, r); err != nil {
		return Artifact{}, fmt.Errorf("reading artifact: %w", err)
	}
	a := Artifact{digests: map[crypto.Hash][]byte{}}
	for h, hh := range hs {
		a.digests[h] = hh.Sum(nil)
	}
	return a, nil
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
