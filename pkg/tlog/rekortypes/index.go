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

// HashIndexKey normalizes an artifact hash for an index search as Rekor does: the value must
// match Rekor's pattern for a search hash ([sha1:|sha256:|sha512:] and hex of that size; a bare
// digest gets the prefix its length implies), and the key is lowercased. Rekor's pattern has no
// sha384, so a sha384 hashedrekord is found by its key, not its hash.
func HashIndexKey(s string) (string, error) {
	sizes := map[string]int{"sha1": 40, "sha256": 64, "sha512": 128}
	alg, digest, prefixed := strings.Cut(s, ":")
	if !prefixed {
		digest = s
		for a, n := range sizes {
			if len(s) == n {
				alg = a
			}
		}
	}
	n, ok := sizes[alg]
	if _, err := hex.DecodeString(digest); !ok || err != nil || len(digest) != n {
		return "", fmt.Errorf("%w: hash %q is not [sha1:|sha256:|sha512:]<hex digest of that size>", ErrInvalid, s)
	}
	return strings.ToLower(alg + ":" + digest), nil
}

// EmailIndexKey is the index key of an email address (or subject): lowercased, as Rekor's index
// storage keys it.
func EmailIndexKey(s string) string { return strings.ToLower(s) }
