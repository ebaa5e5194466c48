package rekortypes

import (
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// hashAlgorithms are the digest algorithms of a hashedrekord 0.0.1 entry.
var hashAlgorithms = map[string]crypto.Hash{"sha256": crypto.SHA256, "sha384": crypto.SHA384, "sha512": crypto.SHA512}

// readHash reads {"algorithm", "value"} where algorithm is one of algs, value hex of its size.
// The value is kept as given, as Rekor keeps it.
func readHash(n node, algs map[string]crypto.Hash) (alg, value string, digest []byte, err error) {
	if alg, err = n.needStr("algorithm"); err != nil {
		return
	}
	h, ok := algs[alg]
	if !ok {
		err = fmt.Errorf("%w: %s %q is not accepted (accepted: %s)", ErrInvalid, n.name("algorithm"), alg, mapKeys(algs))
		return
	}
	if value, err = n.needStr("value"); err != nil {
		return
	}
	if len(value) != 2*h.Size() {
		err = fmt.Errorf("%w: %s is %d hex digits, %s needs %d", ErrInvalid, n.name("value"), len(value), alg, 2*h.Size())
		return
	}
	if digest, err = hex.DecodeString(value); err != nil {
		err = fmt.Errorf("%w: %s is not hex: %v", ErrInvalid, n.name("value"), err)
	}
	return
}

func canonicalizeHashedRekord(spec node) (obj, []string, error) {
	_, sigBytes, keyBytes, err := signatureParts(spec)
	if err != nil {
		return nil, nil, err
	}
	data, err := spec.needObject("data")
	if err != nil {
		return nil, nil, err
	}
	hash, err := data.needObject("hash")
	if err != nil {
		return nil, nil, err
	}
	alg, value, digest, err := readHash(hash, hashAlgorithms)
	if err != nil {
		return nil, nil, err
	}
	key, err := parseX509Key(keyBytes)
	if err != nil {
		return nil, nil, err
	}
	if err := key.verify(func(pub crypto.PublicKey) error {
		return verifyDigest(pub, hashAlgorithms[alg], digest, sigBytes)
	}); err != nil {
		return nil, nil, fmt.Errorf("hashedrekord: %w", err)
	}
	canonKey, err := key.canonical()
	if err != nil {
		return nil, nil, err
	}
	return obj{
		"data":      obj{"hash": obj{"algorithm": alg, "value": value}},
		"signature": obj{"content": b64(sigBytes), "publicKey": obj{"content": b64(canonKey)}},
	}, nil, nil
}

// hashedRekordKeys: the SHA-256 of the (canonical) key content, the certificate's SANs, the
// artifact hash.
func hashedRekordKeys(spec node) ([]string, error) {
	_, _, keyBytes, err := signatureParts(spec)
	if err != nil {
		return nil, err
	}
	key, err := parseX509Key(keyBytes)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(keyBytes)
	keys := append([]string{hex.EncodeToString(sum[:])}, key.subjects()...)
	return appendHashKey(keys, spec)
}

// appendHashKey appends "<algorithm>:<value>" of spec.data.hash, when there is one.
func appendHashKey(keys []string, spec node) ([]string, error) {
	data, err := spec.needObject("data")
	if err != nil {
		return nil, err
	}
	k, err := hashKey(data, "hash")
	return append(keys, k...), err
}

// signatureParts reads spec.signature, its content and its publicKey.content, which hashedrekord
// and rekord share.
func signatureParts(spec node) (sig node, content, key []byte, err error) {
	if sig, err = spec.needObject("signature"); err != nil {
		return
	}
	if content, err = sig.needBytes("content"); err != nil {
		return
	}
	pk, err := sig.needObject("publicKey")
	if err != nil {
		return
	}
	key, err = pk.needBytes("content")
	return
}
