package rekortypes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// ProposeRekord builds a rekord 0.0.1 proposed entry as rekor-cli's upload does, with the
// artifact, the detached signature and the public key inline. format is x509, pgp, minisign or
// ssh. Nothing is verified here: the log does that.
func ProposeRekord(format string, artifact, signature, publicKey []byte) ([]byte, error) {
	if _, ok := pkis[format]; !ok {
		return nil, fmt.Errorf("%w: rekord signature format %q is not accepted (accepted: %s)", ErrInvalid, format, mapKeys(pkis))
	}
	return canonicalJSON(obj{"apiVersion": "0.0.1", "kind": "rekord", "spec": obj{
		"data": obj{"content": b64(artifact)},
		"signature": obj{
			"format":    format,
			"content":   b64(signature),
			"publicKey": obj{"content": b64(publicKey)},
		},
	}})
}

// ProposeHashedRekord builds a hashedrekord 0.0.1 proposed entry as rekor-cli's upload does:
// the SHA-256 digest of the artifact, the signature over it, and the PEM public key or
// certificate (or chain, leaf first) that verifies it.
func ProposeHashedRekord(digest []byte, signature, publicKeyOrCertPEM []byte) ([]byte, error) {
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("%w: a SHA-256 digest is %d bytes, got %d", ErrInvalid, sha256.Size, len(digest))
	}
	return canonicalJSON(obj{"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": obj{
		"data": obj{"hash": obj{"algorithm": "sha256", "value": hex.EncodeToString(digest)}},
		"signature": obj{
			"content":   b64(signature),
			"publicKey": obj{"content": b64(publicKeyOrCertPEM)},
		},
	}})
}

// ProposeIntoto builds an intoto 0.0.2 proposed entry for a DSSE envelope (its JSON, as stored:
// the hash of these bytes is the entry's content hash, what cosign matches a legacy attestation
// layer against), each signature paired with the PEM public key or certificate that verifies it,
// as cosign attest logs an attestation to a Rekor v1 log. The envelope's base64 payload and
// signatures are base64-encoded once more, as the type stores them.
func ProposeIntoto(envelopeJSON, publicKeyOrCertPEM []byte) ([]byte, error) {
	var env envelope
	if err := json.Unmarshal(envelopeJSON, &env); err != nil {
		return nil, fmt.Errorf("%w: the DSSE envelope: %v", ErrInvalid, err)
	}
	if len(env.Signatures) == 0 {
		return nil, fmt.Errorf("%w: the DSSE envelope has no signature", ErrInvalid)
	}
	sigs := make([]any, len(env.Signatures))
	for i, s := range env.Signatures {
		o := obj{"sig": b64([]byte(s.Sig)), "publicKey": b64(publicKeyOrCertPEM)}
		if s.KeyID != "" {
			o["keyid"] = s.KeyID
		}
		sigs[i] = o
	}
	sum := sha256.Sum256(envelopeJSON)
	return canonicalJSON(obj{"apiVersion": "0.0.2", "kind": "intoto", "spec": obj{"content": obj{
		"envelope": obj{"payloadType": env.PayloadType, "payload": b64([]byte(env.Payload)), "signatures": sigs},
		"hash":     obj{"algorithm": "sha256", "value": hex.EncodeToString(sum[:])},
	}}})
}
