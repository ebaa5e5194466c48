package tlog

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NoteKeyType is a C2SP signed-note signature type: the byte that leads the key material of a
// verifier key and enters its key ID.
type NoteKeyType byte

// The signature types of C2SP signed-note that this package knows by name.
const (
	// NoteKeyEd25519 is a plain Ed25519 note signature (a log's checkpoint key).
	NoteKeyEd25519 NoteKeyType = 0x01
	// NoteKeyECDSA is an ECDSA note signature.
	NoteKeyECDSA NoteKeyType = 0x02
	// NoteKeyCosignatureV1 is a timestamped Ed25519 witness cosignature (C2SP tlog-cosignature).
	NoteKeyCosignatureV1 NoteKeyType = 0x04
	// NoteKeyRFC6962 is an RFC 6962 TreeHeadSignature (C2SP static-ct-api).
	NoteKeyRFC6962 NoteKeyType = 0x05
	// NoteKeyMLDSA44 is an ML-DSA-44 witness cosignature (C2SP tlog-cosignature).
	NoteKeyMLDSA44 NoteKeyType = 0x06
)

// String names the type ("Ed25519", "ML-DSA-44 cosignature", or "type 0x..").
func (t NoteKeyType) String() string {
	switch t {
	case NoteKeyEd25519:
		return "Ed25519"
	case NoteKeyECDSA:
		return "ECDSA"
	case NoteKeyCosignatureV1:
		return "Ed25519 cosignature/v1"
	case NoteKeyRFC6962:
		return "RFC 6962 tree head"
	case NoteKeyMLDSA44:
		return "ML-DSA-44 cosignature"
	}
	return fmt.Sprintf("type 0x%02x", byte(t))
}

// mldsa44PublicKeySize is the size of an ML-DSA-44 public key (FIPS 204).
const mldsa44PublicKeySize = 1312

// VerifierKey is a parsed C2SP signed-note verifier key ("vkey"):
// "<name>+<8 hex digits of key ID>+<base64(type || public key)>".
type VerifierKey struct {
	// Name is the key name, which signature lines carry.
	Name string
	// ID is the 32-bit key ID that leads each signature.
	ID uint32
	// Type is the signature type byte.
	Type NoteKeyType
	// PublicKey is the key material after the type byte.
	PublicKey []byte
}

// noteKeyID is the key ID that C2SP signed-note recommends and tlog-cosignature requires:
// the first 4 bytes of SHA-256(name || 0x0A || type || public key), big-endian.
func noteKeyID(name string, typ NoteKeyType, pub []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', byte(typ)})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// ParseVerifierKey parses a signed-note verifier key. The name must be a valid key name; for
// the types whose key ID the specifications define (Ed25519, Ed25519 cosignature/v1, ML-DSA-44
// cosignature, RFC 6962 tree head) the key must have its size (for a tree head key: be a PKIX
// DER ECDSA P-256 public key) and the key ID must be the one computed from name and key (for a
// tree head key, from the RFC 6962 log ID, SHA-256 of that DER). Keys of other types are parsed as given: whether they can be used is for the caller
// to say. Errors wrap ErrMalformedVerifierKey.
func ParseVerifierKey(vkey string) (*VerifierKey, error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	idHex, keyB64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: %q is not <name>+<key ID>+<key>", ErrMalformedVerifierKey, truncate(vkey))
	}
	if !validStrictKeyName(name) {
		return nil, fmt.Errorf("%w: key name %q", ErrMalformedVerifierKey, truncate(name))
	}
	if len(idHex) != 8 {
		return nil, fmt.Errorf("%w: key ID %q is not 8 hex digits", ErrMalformedVerifierKey, truncate(idHex))
	}
	idBytes, err := hex.DecodeString(idHex)
	if err != nil {
		return nil, fmt.Errorf("%w: key ID %q is not 8 hex digits", ErrMalformedVerifierKey, idHex)
	}
	raw, err := base64.StdEncoding.DecodeString(keyB64)
	if err != nil || len(raw) < 2 {
		return nil, fmt.Errorf("%w: key of %q is not base64 of a type byte and a key", ErrMalformedVerifierKey, name)
	}
	k := &VerifierKey{Name: name, ID: binary.BigEndian.Uint32(idBytes), Type: NoteKeyType(raw[0]), PublicKey: raw[1:]}
	want := 0
	switch k.Type {
	case NoteKeyEd25519, NoteKeyCosignatureV1:
		want = ed25519.PublicKeySize
	case NoteKeyMLDSA44:
		want = mldsa44PublicKeySize
	case NoteKeyRFC6962:
		if _, err := treeHeadVerifierKey(name, k.ID, k.PublicKey); err != nil {
			return nil, err
		}
		return k, nil
	default:
		return k, nil
	}
	if len(k.PublicKey) != want {
		return nil, fmt.Errorf("%w: %s key %q is %d bytes, want %d", ErrMalformedVerifierKey, k.Type, name, len(k.PublicKey), want)
	}
	if id := noteKeyID(name, k.Type, k.PublicKey); id != k.ID {
		return nil, fmt.Errorf("%w: key %q has key ID %08x, its key gives %08x", ErrMalformedVerifierKey, name, k.ID, id)
	}
	return k, nil
}

// validStrictKeyName reports whether name may name a note key by C2SP signed-note's own words:
// non-empty valid UTF-8 without Unicode spaces, control characters or '+'.
func validStrictKeyName(name string) bool {
	if !validKeyName(name) || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// String renders the key as a vkey.
func (k *VerifierKey) String() string {
	return fmt.Sprintf("%s+%08x+%s", k.Name, k.ID, base64.StdEncoding.EncodeToString(append([]byte{byte(k.Type)}, k.PublicKey...)))
}

// LogKey is the log key of an Ed25519 or RFC 6962 tree head verifier key: its name is the
// checkpoint origin. Other types give an error wrapping ErrUnsupportedKey.
func (k *VerifierKey) LogKey() (LogKey, error) {
	if k.Type == NoteKeyRFC6962 {
		return treeHeadVerifierKey(k.Name, k.ID, k.PublicKey)
	}
	if k.Type != NoteKeyEd25519 {
		return LogKey{}, fmt.Errorf("%w: %s verifier key %q (want Ed25519 or RFC 6962 tree head)", ErrUnsupportedKey, k.Type, k.Name)
	}
	pub := ed25519.PublicKey(append([]byte(nil), k.PublicKey...))
	id := Ed25519KeyID(k.Name, pub)
	return LogKey{Origin: k.Name, KeyID: id[:], PublicKey: pub}, nil
}

// VerifierKey is the signed-note verifier key of an Ed25519 log key, or of a tree head key
// (type 0x05, the key material its PKIX DER public key), named by its origin.
func (k LogKey) VerifierKey() (*VerifierKey, error) {
	if ec, isEC := k.PublicKey.(*ecdsa.PublicKey); isEC && k.TreeHead {
		if !validKeyName(k.Origin) {
			return nil, fmt.Errorf("%w: origin %q cannot name a note key", ErrMalformedVerifierKey, k.Origin)
		}
		der, err := x509.MarshalPKIXPublicKey(ec)
		if err != nil {
			return nil, fmt.Errorf("%w: encoding ECDSA key: %v", ErrUnsupportedKey, err)
		}
		id := sha256.Sum256(der)
		return &VerifierKey{Name: k.Origin, ID: treeHeadKeyID(k.Origin, id[:]), Type: NoteKeyRFC6962, PublicKey: der}, nil
	}
	pub, ok := k.PublicKey.(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: %T has no Ed25519 verifier key", ErrUnsupportedKey, k.PublicKey)
	}
	if !validKeyName(k.Origin) {
		return nil, fmt.Errorf("%w: origin %q cannot name a note key", ErrMalformedVerifierKey, k.Origin)
	}
	return &VerifierKey{Name: k.Origin, ID: noteKeyID(k.Origin, NoteKeyEd25519, pub), Type: NoteKeyEd25519,
		PublicKey: append([]byte(nil), pub...)}, nil
}

// CosignatureVerifier is the cosignature/v1 verifier of an Ed25519 witness key: type 0x04, or
// a plain Ed25519 key (type 0x01), which is read as the same public key with the cosignature
// key ID, as Tessera reads witness keys. Other types (ML-DSA-44 among them) give an error
// wrapping ErrUnsupportedCosignatureKey.
func (k *VerifierKey) CosignatureVerifier() (*CosignatureVerifier, error) {
	if k.Type != NoteKeyCosignatureV1 && k.Type != NoteKeyEd25519 {
		return nil, fmt.Errorf("%w: %s key %q", ErrUnsupportedCosignatureKey, k.Type, k.Name)
	}
	return NewCosignatureVerifier(k.Name, ed25519.PublicKey(k.PublicKey))
}
