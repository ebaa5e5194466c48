package rekortypes

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"

	minisign "github.com/jedisct1/go-minisign"
	"golang.org/x/crypto/blake2b"
)

// minisignKey is a minisign public key: the key file, its base64 line alone, or (as Rekor
// once stored them) the 32 raw key bytes.
type minisignKey struct{ key minisign.PublicKey }

func parseMinisignKey(content []byte) (pkiKey, error) {
	s := string(content)
	if k, err := minisign.DecodePublicKey(s); err == nil {
		return &minisignKey{k}, nil
	}
	if k, err := minisign.NewPublicKey(s); err == nil {
		return &minisignKey{k}, nil
	}
	if len(content) == ed25519.PublicKeySize {
		k := minisign.PublicKey{SignatureAlgorithm: [2]byte{'E', 'd'}}
		copy(k.PublicKey[:], content)
		return &minisignKey{k}, nil
	}
	return nil, fmt.Errorf("%w: minisign public key: neither a key file, its base64 line, nor 32 key bytes", ErrInvalid)
}

// canonical: base64 of algorithm, key ID and key, without the comment line.
func (k *minisignKey) canonical() ([]byte, error) {
	b := append(append(append([]byte{}, k.key.SignatureAlgorithm[:]...), k.key.KeyId[:]...), k.key.PublicKey[:]...)
	return []byte(base64.StdEncoding.EncodeToString(b)), nil
}

func (k *minisignKey) subjects() []string { return nil }

// parseMinisignSignature reads a minisign signature file, or a signify one (a comment line and
// a base64 line).
func parseMinisignSignature(sig []byte) (alg [2]byte, keyID [8]byte, ed []byte, err error) {
	if s, err := minisign.DecodeSignature(string(sig)); err == nil {
		return s.SignatureAlgorithm, s.KeyId, s.Signature[:], nil
	}
	lines := strings.Split(strings.TrimRight(string(sig), "\n"), "\n")
	if len(lines) != 2 {
		return alg, keyID, nil, fmt.Errorf("%w: minisign signature of %d lines is neither a minisign nor a signify signature", ErrInvalid, len(lines))
	}
	raw, err := base64.StdEncoding.DecodeString(lines[1])
	if err != nil || len(raw) != 2+8+ed25519.SignatureSize {
		return alg, keyID, nil, fmt.Errorf("%w: signify signature line is not base64 of %d bytes", ErrInvalid, 2+8+ed25519.SignatureSize)
	}
	copy(alg[:], raw[:2])
	copy(keyID[:], raw[2:10])
	return alg, keyID, raw[10:], nil
}

// verifyMinisign checks the Ed25519 signature over the artifact, or over its BLAKE2b-512 hash
// when the signature algorithm is "ED" (minisign's default, pre-hashed). As in Rekor, the key
// ID and the trusted comment's global signature are not part of the check, and the canonical
// signature keeps neither comment: "untrusted comment:" and the base64 signature line.
func verifyMinisign(key pkiKey, sig, artifact []byte) ([]byte, error) {
	k := key.(*minisignKey)
	alg, keyID, ed, err := parseMinisignSignature(sig)
	if err != nil {
		return nil, err
	}
	msg := artifact
	if alg[1] == 'D' {
		h := blake2b.Sum512(artifact)
		msg = h[:]
	}
	if !ed25519.Verify(ed25519.PublicKey(k.key.PublicKey[:]), msg, ed) {
		return nil, fmt.Errorf("%w: %w (minisign %s)", ErrInvalid, errSignature, string(bytes.ToValidUTF8(alg[:], []byte("?"))))
	}
	line := append(append(append([]byte{}, alg[:]...), keyID[:]...), ed...)
	return []byte("untrusted comment:\n" + base64.StdEncoding.EncodeToString(line)), nil
}
