package tlog

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"fmt"
)

// RFC 6962 constants of a TreeHeadSignature and its DigitallySigned encoding.
const (
	rfc6962V1            = 0
	rfc6962TreeHash      = 1
	tlsHashSHA256        = 4
	tlsSignatureECDSA    = 3
	treeHeadNoteSigFixed = 8 + 2 + 2 // timestamp, algorithms, signature length
)

// TreeHeadLogKey is the log key of a CT log that signs its checkpoints as C2SP static-ct-api
// does (RFC 6962 TreeHeadSignatures as note signatures, type 0x05), from the log's ECDSA P-256
// public key; origin is its checkpoint origin, which names the key. KeyID is the RFC 6962 log ID
// (SHA-256 of the PKIX DER key).
func TreeHeadLogKey(origin string, pub *ecdsa.PublicKey) (LogKey, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return LogKey{}, fmt.Errorf("%w: an RFC 6962 tree head key must be ECDSA P-256", ErrUnsupportedKey)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return LogKey{}, fmt.Errorf("%w: encoding ECDSA key: %v", ErrUnsupportedKey, err)
	}
	id := sha256.Sum256(der)
	return LogKey{Origin: origin, KeyID: id[:], PublicKey: pub, TreeHead: true}, nil
}

// treeHeadKeyID is the key ID of a tree head note key: SHA-256(name || 0x0A || 0x05 || log ID)[:4],
// as C2SP static-ct-api defines it.
func treeHeadKeyID(name string, logID []byte) uint32 {
	return noteKeyID(name, NoteKeyRFC6962, logID)
}

// treeHeadVerifierKey parses the key material of a type 0x05 verifier key (the log's PKIX DER
// public key, ECDSA P-256) into a log key named name, checking its key ID.
func treeHeadVerifierKey(name string, id uint32, der []byte) (LogKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return LogKey{}, fmt.Errorf("%w: %s key %q is not a PKIX public key: %v", ErrMalformedVerifierKey, NoteKeyRFC6962, name, err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return LogKey{}, fmt.Errorf("%w: %s key %q is not ECDSA P-256", ErrMalformedVerifierKey, NoteKeyRFC6962, name)
	}
	k, err := TreeHeadLogKey(name, ec)
	if err != nil {
		return LogKey{}, err
	}
	if want := treeHeadKeyID(name, k.KeyID); want != id {
		return LogKey{}, fmt.Errorf("%w: key %q has key ID %08x, its key gives %08x", ErrMalformedVerifierKey, name, id, want)
	}
	return k, nil
}

// treeHeadNoteVerifier verifies RFC6962NoteSignatures (an 8-byte timestamp and the
// DigitallySigned TreeHeadSignature over that timestamp and the checkpoint's size and root) by
// pub over checkpoints without extension lines, as C2SP static-ct-api requires.
func treeHeadNoteVerifier(name string, pub *ecdsa.PublicKey, logID []byte) *noteVerifier {
	v := &noteVerifier{name: name, checkName: true, verify: func(msg, sig []byte) bool {
		cp, err := ParseCheckpoint(msg)
		if err != nil || len(cp.Extensions) > 0 || len(sig) < treeHeadNoteSigFixed {
			return false
		}
		ts, hashAlg, sigAlg := sig[:8], sig[8], sig[9]
		n := int(binary.BigEndian.Uint16(sig[10:12]))
		if hashAlg != tlsHashSHA256 || sigAlg != tlsSignatureECDSA || len(sig) != treeHeadNoteSigFixed+n {
			return false
		}
		input := make([]byte, 0, 2+8+8+32)
		input = append(input, rfc6962V1, rfc6962TreeHash)
		input = append(input, ts...)
		input = binary.BigEndian.AppendUint64(input, cp.Size)
		input = append(input, cp.Hash...)
		digest := sha256.Sum256(input)
		return ecdsa.VerifyASN1(pub, digest[:], sig[treeHeadNoteSigFixed:])
	}}
	binary.BigEndian.PutUint32(v.hint[:], treeHeadKeyID(name, logID))
	return v
}
