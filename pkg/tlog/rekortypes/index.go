package rekortypes

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// PublicKeyIndexKey is the index key under which Rekor finds the entries of a public key, as
// POST /api/v1/index/retrieve computes it from {"publicKey": {"format", "content"}}: the SHA-256
// (lowercase hex) of the key's canonical form in that PKI format (x509, pgp, minisign, ssh).
func PublicKeyIndexKey(format string, content []byte) (string, error) {
	p, ok := pkis[format]
	if !ok {
		return "", fmt.Errorf("%w: public key format %q is not accepted (accepted: %s)", ErrInvalid, format, mapKeys(pkis))
	}
	k, err := p.key(content)
	if err != nil {
		return "", err
	}
	canon, err := k.canonical()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// HashIndexKey normalizes an artifact hash for an index search as Rekor does: a bare hex digest
// gets the prefix its length implies (sha1, sha256, sha384 or sha512), and the key is
// lowercased. The value must match Rekor's pattern for a search hash.
func HashIndexKey(s string) (string, error) {
	alg, hexPart, prefixed := strings.Cut(s, ":")
	if !prefixed {
		hexPart = s
		switch len(s) {
		case 40:
			alg = "sha1"
		case 64:
			alg = "sha256"
		case 96:
			alg = "sha384"
		case 128:
			alg = "sha512"
		}
	}
	want := map[string]int{"sha1": 40, "sha256": 64, "sha512": 128}
	if !prefixed {
		want["sha384"] = 96
	}
	n, ok := want[alg]
	if _, err := hex.DecodeString(hexPart); !ok || err != nil || len(hexPart) != n {
		return "", fmt.Errorf("%w: hash %q is not [sha1:|sha256:|sha512:]<hex digest of that size>", ErrInvalid, s)
	}
	return strings.ToLower(alg + ":" + hexPart), nil
}

// EmailIndexKey is the index key of an email address (or subject): lowercased, as Rekor's index
// storage keys it.
func EmailIndexKey(s string) string { return strings.ToLower(s) }
