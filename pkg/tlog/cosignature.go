package tlog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// cosignatureHeader is the first line of the message a cosignature/v1 signs.
const cosignatureHeader = "cosignature/v1\n"

// cosignatureSize is the size of an Ed25519 timestamped_signature: a big-endian u64 timestamp
// and the 64-byte signature.
const cosignatureSize = 8 + ed25519.SignatureSize

// CosignatureMessage is the message an Ed25519 cosignature/v1 signs (C2SP tlog-cosignature):
// "cosignature/v1\ntime <timestamp>\n" followed by the whole checkpoint body, extension lines
// and final newline included.
func CosignatureMessage(timestamp uint64, checkpointBody []byte) []byte {
	msg := make([]byte, 0, len(cosignatureHeader)+26+len(checkpointBody))
	msg = append(msg, cosignatureHeader...)
	msg = append(msg, "time "...)
	msg = strconv.AppendUint(msg, timestamp, 10)
	msg = append(msg, '\n')
	return append(msg, checkpointBody...)
}

// CosignatureKeyID is the key ID of an Ed25519 cosigner named name:
// SHA-256(name || 0x0A || 0x04 || public key)[:4], big-endian.
func CosignatureKeyID(name string, pub ed25519.PublicKey) uint32 {
	return noteKeyID(name, NoteKeyCosignatureV1, pub)
}

// Cosignature is one verified (or just made) cosignature/v1 of a checkpoint.
type Cosignature struct {
	// Name is the cosigner's key name, as the signature line carries it.
	Name string
	// KeyID is the cosigner's key ID.
	KeyID uint32
	// Timestamp is when the cosigner signed, in seconds since the Unix epoch (never zero).
	Timestamp uint64
	// Signature is the Ed25519 signature over CosignatureMessage.
	Signature []byte
}

// Time is the timestamp as a time.
func (c *Cosignature) Time() time.Time { return time.Unix(int64(c.Timestamp), 0).UTC() }

// Line renders the cosignature as a signed-note signature line:
// "— <name> base64(key ID || timestamp || signature)\n".
func (c *Cosignature) Line() []byte {
	raw := binary.BigEndian.AppendUint32(nil, c.KeyID)
	raw = binary.BigEndian.AppendUint64(raw, c.Timestamp)
	raw = append(raw, c.Signature...)
	return []byte("\u2014 " + c.Name + " " + base64.StdEncoding.EncodeToString(raw) + "\n")
}

// CosignatureVerifier checks the cosignature/v1 signatures of one Ed25519 witness key.
type CosignatureVerifier struct {
	name string
	pub  ed25519.PublicKey
	id   uint32
}

// NewCosignatureVerifier returns the verifier of the witness key pub named name.
func NewCosignatureVerifier(name string, pub ed25519.PublicKey) (*CosignatureVerifier, error) {
	if !validStrictKeyName(name) {
		return nil, fmt.Errorf("%w: witness name %q cannot name a note key", ErrMalformedVerifierKey, truncate(name))
	}
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: Ed25519 key of %d bytes", ErrUnsupportedCosignatureKey, len(pub))
	}
	pub = append(ed25519.PublicKey(nil), pub...)
	return &CosignatureVerifier{name: name, pub: pub, id: CosignatureKeyID(name, pub)}, nil
}

// Name is the witness's key name.
func (v *CosignatureVerifier) Name() string { return v.name }

// KeyID is the witness's cosignature key ID.
func (v *CosignatureVerifier) KeyID() uint32 { return v.id }

// PublicKey is the witness's Ed25519 public key.
func (v *CosignatureVerifier) PublicKey() ed25519.PublicKey { return v.pub }

// VerifierKey is the witness's signed-note verifier key (type 0x04).
func (v *CosignatureVerifier) VerifierKey() *VerifierKey {
	return &VerifierKey{Name: v.name, ID: v.id, Type: NoteKeyCosignatureV1, PublicKey: append([]byte(nil), v.pub...)}
}

// Verify checks one signature line (with or without its final newline) as this witness's
// cosignature of checkpointBody, which must be a whole C2SP checkpoint body. A line by another
// key name or key ID gives ErrNoCosignature; one of this witness that does not verify,
// ErrBadCosignature; a zero timestamp, ErrCosignatureTimestamp.
func (v *CosignatureVerifier) Verify(checkpointBody, line []byte) (*Cosignature, error) {
	if _, err := ParseCheckpoint(checkpointBody); err != nil {
		return nil, err
	}
	l := strings.TrimSuffix(string(line), "\n")
	after, ok := strings.CutPrefix(l, "\u2014 ")
	name, b64, ok2 := strings.Cut(after, " ")
	if !ok || !ok2 {
		return nil, fmt.Errorf("%w: %q is not a signature line", ErrMalformedNote, truncate(l))
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) < 5 {
		return nil, fmt.Errorf("%w: signature line of %q is not base64 of a key ID and a signature", ErrMalformedNote, truncate(name))
	}
	s := noteSignature{name: name, sig: raw[4:]}
	copy(s.hint[:], raw[:4])
	if !v.matches(s) {
		return nil, fmt.Errorf("%w: the line is by %q (key ID %x), not %q (key ID %08x)", ErrNoCosignature, truncate(name), s.hint, v.name, v.id)
	}
	return v.verify(checkpointBody, s)
}

// VerifyNote finds and checks this witness's cosignature in a signed checkpoint note. The first
// line with this witness's name and key ID decides: ErrBadCosignature or ErrCosignatureTimestamp
// when it does not verify, ErrNoCosignature when there is none.
func (v *CosignatureVerifier) VerifyNote(signedNote []byte) (*Cosignature, error) {
	text, sigs, err := splitNote(signedNote)
	if err != nil {
		return nil, err
	}
	if _, err := ParseCheckpoint(text); err != nil {
		return nil, err
	}
	return v.verifyIn(text, sigs)
}

// verifyIn checks the first of sigs that is this witness's over the checkpoint body text.
func (v *CosignatureVerifier) verifyIn(text []byte, sigs []noteSignature) (*Cosignature, error) {
	for _, s := range sigs {
		if v.matches(s) {
			return v.verify(text, s)
		}
	}
	return nil, fmt.Errorf("%w: %q (key ID %08x) did not cosign", ErrNoCosignature, v.name, v.id)
}

func (v *CosignatureVerifier) matches(s noteSignature) bool {
	return s.name == v.name && binary.BigEndian.Uint32(s.hint[:]) == v.id
}

// verify checks s, a signature by this witness's name and key ID, over body.
func (v *CosignatureVerifier) verify(body []byte, s noteSignature) (*Cosignature, error) {
	if len(s.sig) != cosignatureSize {
		return nil, fmt.Errorf("%w: %q: signature of %d bytes, want %d", ErrBadCosignature, v.name, len(s.sig), cosignatureSize)
	}
	ts := binary.BigEndian.Uint64(s.sig)
	if ts == 0 || ts > math.MaxInt64 {
		return nil, fmt.Errorf("%w: %q signed at time %d", ErrCosignatureTimestamp, v.name, ts)
	}
	if !ed25519.Verify(v.pub, CosignatureMessage(ts, body), s.sig[8:]) {
		return nil, fmt.Errorf("%w: by %q at time %d", ErrBadCosignature, v.name, ts)
	}
	return &Cosignature{Name: v.name, KeyID: v.id, Timestamp: ts, Signature: bytes.Clone(s.sig[8:])}, nil
}

// CosignatureSigner makes cosignature/v1 signatures with an Ed25519 witness key.
type CosignatureSigner struct {
	v    *CosignatureVerifier
	priv ed25519.PrivateKey
}

// NewCosignatureSigner returns the signer of the witness key priv named name.
func NewCosignatureSigner(name string, priv ed25519.PrivateKey) (*CosignatureSigner, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: Ed25519 private key of %d bytes", ErrUnsupportedCosignatureKey, len(priv))
	}
	v, err := NewCosignatureVerifier(name, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	return &CosignatureSigner{v: v, priv: priv}, nil
}

// ParseCosignatureSigner reads a signed-note signer key,
// "PRIVATE+KEY+<name>+<hex key ID>+<base64(type || Ed25519 seed)>", of type 0x01 (as SignerKey
// writes it) or 0x04; the key ID must be the one of that type.
func ParseCosignatureSigner(skey string) (*CosignatureSigner, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(skey), "PRIVATE+KEY+")
	name, rest, ok1 := strings.Cut(rest, "+")
	idHex, keyB64, ok2 := strings.Cut(rest, "+")
	if !ok || !ok1 || !ok2 || len(idHex) != 8 {
		return nil, fmt.Errorf("%w: signer key is not PRIVATE+KEY+<name>+<key ID>+<key>", ErrMalformedVerifierKey)
	}
	id, err := strconv.ParseUint(idHex, 16, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: signer key ID %q is not 8 hex digits", ErrMalformedVerifierKey, idHex)
	}
	raw, err := base64.StdEncoding.DecodeString(keyB64)
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return nil, fmt.Errorf("%w: signer key of %q is not base64 of a type byte and an Ed25519 seed", ErrMalformedVerifierKey, truncate(name))
	}
	typ := NoteKeyType(raw[0])
	if typ != NoteKeyCosignatureV1 && typ != NoteKeyEd25519 {
		return nil, fmt.Errorf("%w: signer key of type %s", ErrUnsupportedCosignatureKey, typ)
	}
	s, err := NewCosignatureSigner(name, ed25519.NewKeyFromSeed(raw[1:]))
	if err != nil {
		return nil, err
	}
	if want := noteKeyID(name, typ, s.v.pub); uint32(id) != want {
		return nil, fmt.Errorf("%w: signer key %q has key ID %s, its key gives %08x", ErrMalformedVerifierKey, name, idHex, want)
	}
	return s, nil
}

// Name is the witness's key name.
func (s *CosignatureSigner) Name() string { return s.v.name }

// Verifier is the verifier of this signer's cosignatures.
func (s *CosignatureSigner) Verifier() *CosignatureVerifier { return s.v }

// SignerKey renders the private key as a signed-note signer key in the plain Ed25519 form (type
// 0x01, with that type's key ID), which golang.org/x/mod/sumdb/note and
// transparency-dev/formats' NewSignerForCosignatureV1 read too. It is secret.
func (s *CosignatureSigner) SignerKey() string {
	return fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", s.v.name, noteKeyID(s.v.name, NoteKeyEd25519, s.v.pub),
		base64.StdEncoding.EncodeToString(append([]byte{byte(NoteKeyEd25519)}, s.priv.Seed()...)))
}

// Cosign signs checkpointBody, a whole C2SP checkpoint body, as of at (whole seconds; it must be
// after the Unix epoch), and returns the cosignature.
func (s *CosignatureSigner) Cosign(checkpointBody []byte, at time.Time) (*Cosignature, error) {
	if _, err := ParseCheckpoint(checkpointBody); err != nil {
		return nil, err
	}
	sec := at.Unix()
	if sec <= 0 {
		return nil, fmt.Errorf("%w: cannot cosign as of %s", ErrCosignatureTimestamp, at)
	}
	ts := uint64(sec)
	sig := ed25519.Sign(s.priv, CosignatureMessage(ts, checkpointBody))
	return &Cosignature{Name: s.v.name, KeyID: s.v.id, Timestamp: ts, Signature: sig}, nil
}
