package rekortypes

import (
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// rekordHashes: a rekord 0.0.1 hash is SHA-256 only.
var rekordHashes = map[string]crypto.Hash{"sha256": crypto.SHA256}

// canonicalizeRekord checks a rekord 0.0.1 entry: the detached signature over the inline
// artifact verifies under the key, in the entry's signature format. The canonical entry drops
// the artifact and keeps its SHA-256; signature and key are re-encoded by their format.
func canonicalizeRekord(spec node) (obj, []string, error) {
	sig, sigBytes, keyBytes, err := signatureParts(spec)
	if err != nil {
		return nil, nil, err
	}
	format, err := sig.needStr("format")
	if err != nil {
		return nil, nil, err
	}
	p, ok := pkis[format]
	if !ok {
		return nil, nil, fmt.Errorf("%w: rekord signature format %q is not accepted (accepted: %s)", ErrInvalid, format, mapKeys(pkis))
	}
	data, err := spec.needObject("data")
	if err != nil {
		return nil, nil, err
	}
	artifact, err := data.bytes("content")
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(artifact)
	computed := hex.EncodeToString(sum[:])
	hash, hasHash, err := data.object("hash")
	if err != nil {
		return nil, nil, err
	}
	if hasHash {
		_, value, _, err := readHash(hash, rekordHashes)
		if err != nil {
			return nil, nil, err
		}
		if value != computed {
			return nil, nil, fmt.Errorf("%w: %s is %s, the inline artifact's SHA-256 is %s", ErrInvalid, hash.name("value"), value, computed)
		}
	} else if len(artifact) == 0 {
		return nil, nil, fmt.Errorf("%w: missing %s: this log takes the artifact inline", ErrInvalid, data.name("content"))
	}
	key, err := p.key(keyBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("rekord %s: %w", format, err)
	}
	canonSig, err := p.verify(key, sigBytes, artifact)
	if err != nil {
		return nil, nil, fmt.Errorf("rekord %s: %w", format, err)
	}
	canonKey, err := key.canonical()
	if err != nil {
		return nil, nil, err
	}
	return obj{
		"data": obj{"hash": obj{"algorithm": "sha256", "value": computed}},
		"signature": obj{
			"format":    format,
			"content":   b64(canonSig),
			"publicKey": obj{"content": b64(canonKey)},
		},
	}, nil, nil
}

// rekordKeys: the SHA-256 of the key re-encoded by its format, the key's subjects, the artifact
// hash.
func rekordKeys(spec node) ([]string, error) {
	sig, _, keyBytes, err := signatureParts(spec)
	if err != nil {
		return nil, err
	}
	format, err := sig.needStr("format")
	if err != nil {
		return nil, err
	}
	keyHash, err := PublicKeyIndexKey(format, keyBytes)
	if err != nil {
		return nil, err
	}
	key, err := pkis[format].key(keyBytes)
	if err != nil {
		return nil, err
	}
	return appendHashKey(append([]string{keyHash}, key.subjects()...), spec)
}

// isEmail says whether s is an email address of the common form the index keeps for PGP user
// IDs and SSH key comments: a dot-atom local part, "@", and a domain of two or more labels
// whose last is not numeric.
func isEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return false
	}
	for _, atom := range strings.Split(local, ".") {
		if atom == "" {
			return false
		}
		for _, r := range atom {
			if !isAlnum(r) && !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r) {
				return false
			}
		}
	}
	domain = strings.TrimSuffix(domain, ".")
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for i, l := range labels {
		if l == "" {
			return false
		}
		first, last := []rune(l)[0], []rune(l)[len([]rune(l))-1]
		tld := i == len(labels)-1
		edge := func(r rune) bool { return isLetter(r) || (!tld && isDigit(r)) }
		if !edge(first) || !edge(last) {
			return false
		}
		for _, r := range l {
			if !isAlnum(r) && !strings.ContainsRune("-_~", r) && !(r == '.' && !tld) {
				return false
			}
		}
	}
	return true
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// isLetter is an ASCII letter or a character of the Unicode ranges email addresses may use.
func isLetter(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
		(r >= 0xa0 && r <= 0xd7ff) || (r >= 0xf900 && r <= 0xfdcf) || (r >= 0xfdf0 && r <= 0xffef)
}

func isAlnum(r rune) bool { return isLetter(r) || isDigit(r) }
