package tlog

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxNoteSize bounds the size of a signed note (checkpoint) accepted by OpenCheckpoint.
const MaxNoteSize = 1 << 20

// maxNoteSignatures bounds the number of signature lines in a note.
const maxNoteSignatures = 100

// noteAlgEd25519 is the C2SP signed-note signature type byte of Ed25519 keys.
const noteAlgEd25519 = 0x01

// LogKey is a transparency log's verification key as a trusted root lists it.
//
// Origin, when set, is the checkpoint origin the log must use. For Ed25519 keys it is also the
// key name that enters the key hint; when empty, the checkpoint's own origin line is used. For
// ECDSA keys (Rekor v1 logs, whose origins carry a tree ID: "rekor.example.com - 1234"), an origin
// line of the form "<Origin> - <decimal tree ID>" is also accepted.
// KeyID is informational (the trusted root's logId); PublicKey is an ed25519.PublicKey or an
// *ecdsa.PublicKey.
//
// TreeHead marks the ECDSA key of a CT log, which signs its checkpoints with RFC 6962
// TreeHeadSignatures (C2SP static-ct-api, note signature type 0x05): the key is named by the
// origin, as an Ed25519 key is (see TreeHeadLogKey).
type LogKey struct {
	Origin    string
	KeyID     []byte
	PublicKey crypto.PublicKey
	TreeHead  bool
}

// Checkpoint is a parsed C2SP tlog-checkpoint: a log's commitment to its tree at Size.
type Checkpoint struct {
	// Origin is the log's identity, the first line of the checkpoint.
	Origin string
	// Size is the number of entries in the tree.
	Size uint64
	// Hash is the RFC 6962 root hash of the tree (32 bytes).
	Hash []byte
	// Extensions holds the optional lines after the root hash, without their newlines.
	Extensions []string
	// Raw is the input this checkpoint was parsed from: the whole signed note for OpenCheckpoint,
	// the body for ParseCheckpoint.
	Raw []byte
}

// String renders the checkpoint briefly, for error messages and logs.
func (c *Checkpoint) String() string {
	if c == nil {
		return "<nil checkpoint>"
	}
	return fmt.Sprintf("%s@%d(%s)", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Hash))
}

// Body renders the checkpoint body: the origin, size and root hash lines and the extension
// lines. For a checkpoint that ParseCheckpoint or OpenCheckpoint read, it is the text that was
// signed, byte for byte (their syntax is canonical).
func (c *Checkpoint) Body() []byte {
	b := []byte(CheckpointBody(c.Origin, c.Size, c.Hash))
	for _, e := range c.Extensions {
		b = append(append(b, e...), '\n')
	}
	return b
}

// UnverifiedCheckpoint parses a signed checkpoint note without checking any signature: for
// choosing the key to check it with, or for reading back a note whose signatures were checked
// when it was stored. Nothing it returns may be trusted otherwise. Raw is the whole note.
func UnverifiedCheckpoint(signedNote []byte) (*Checkpoint, error) {
	text, _, err := splitNote(signedNote)
	if err != nil {
		return nil, err
	}
	cp, err := ParseCheckpoint(text)
	if err != nil {
		return nil, err
	}
	cp.Raw = signedNote
	return cp, nil
}

// noteSignature is one signature line of a signed note.
type noteSignature struct {
	name string
	hint [4]byte
	sig  []byte
}

// line renders the signature as a note signature line, newline included.
func (s noteSignature) line() string {
	return "\u2014 " + s.name + " " + base64.StdEncoding.EncodeToString(append(s.hint[:], s.sig...)) + "\n"
}

// splitNote checks the signed-note syntax and returns its text (ending in a newline) and its
// signature lines.
func splitNote(msg []byte) ([]byte, []noteSignature, error) {
	if len(msg) > MaxNoteSize {
		return nil, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrNoteTooLarge, len(msg), MaxNoteSize)
	}
	if !utf8.Valid(msg) {
		return nil, nil, fmt.Errorf("%w: not valid UTF-8", ErrMalformedNote)
	}
	for i, b := range msg {
		if (b < 0x20 && b != '\n') || b == 0x7f {
			return nil, nil, fmt.Errorf("%w: control character 0x%02x at offset %d", ErrMalformedNote, b, i)
		}
	}
	split := bytes.LastIndex(msg, []byte("\n\n"))
	if split < 0 {
		return nil, nil, fmt.Errorf("%w: no blank line before the signatures", ErrMalformedNote)
	}
	text, rest := msg[:split+1], msg[split+2:]
	if len(rest) == 0 || rest[len(rest)-1] != '\n' {
		return nil, nil, fmt.Errorf("%w: no signature lines, or the last one lacks its newline", ErrMalformedNote)
	}
	lines := strings.Split(string(rest[:len(rest)-1]), "\n")
	if len(lines) > maxNoteSignatures {
		return nil, nil, fmt.Errorf("%w: %d signature lines, limit %d", ErrMalformedNote, len(lines), maxNoteSignatures)
	}
	sigs := make([]noteSignature, 0, len(lines))
	for n, line := range lines {
		after, ok := strings.CutPrefix(line, "\u2014 ")
		if !ok {
			return nil, nil, fmt.Errorf("%w: signature line %d does not start with an em dash and a space", ErrMalformedNote, n+1)
		}
		name, b64, ok := strings.Cut(after, " ")
		if !ok || !validKeyName(name) || b64 == "" || strings.Contains(b64, " ") {
			return nil, nil, fmt.Errorf("%w: signature line %d is not \"\u2014 <name> <base64>\"", ErrMalformedNote, n+1)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: signature line %d: bad base64: %v", ErrMalformedNote, n+1, err)
		}
		if len(raw) < 5 {
			return nil, nil, fmt.Errorf("%w: signature line %d: signature of %d bytes is too short", ErrMalformedNote, n+1, len(raw))
		}
		s := noteSignature{name: name, sig: raw[4:]}
		copy(s.hint[:], raw[:4])
		sigs = append(sigs, s)
	}
	return text, sigs, nil
}

// validKeyName reports whether name may name a note key: non-empty, no spaces, no '+'.
func validKeyName(name string) bool {
	return name != "" && !strings.ContainsAny(name, " +\t\n")
}

// ParseCheckpoint parses an unsigned C2SP tlog-checkpoint body: the origin line, the decimal tree
// size, the base64 root hash, then optional non-empty extension lines, each ending in a newline.
func ParseCheckpoint(body []byte) (*Checkpoint, error) {
	if len(body) > MaxNoteSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrNoteTooLarge, len(body), MaxNoteSize)
	}
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrMalformedCheckpoint)
	}
	if len(body) == 0 || body[len(body)-1] != '\n' {
		return nil, fmt.Errorf("%w: body must end with a newline", ErrMalformedCheckpoint)
	}
	lines := strings.Split(string(body[:len(body)-1]), "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("%w: %d lines, want origin, size and root hash", ErrMalformedCheckpoint, len(lines))
	}
	origin := lines[0]
	if origin == "" {
		return nil, fmt.Errorf("%w: empty origin line", ErrMalformedCheckpoint)
	}
	size, err := parseDecimal(lines[1])
	if err != nil {
		return nil, fmt.Errorf("%w: tree size %q: %v", ErrMalformedCheckpoint, lines[1], err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil {
		return nil, fmt.Errorf("%w: root hash %q: %v", ErrMalformedCheckpoint, lines[2], err)
	}
	if len(root) != sha256.Size {
		return nil, fmt.Errorf("%w: root hash is %d bytes, want %d", ErrMalformedCheckpoint, len(root), sha256.Size)
	}
	if base64.StdEncoding.EncodeToString(root) != lines[2] {
		return nil, fmt.Errorf("%w: root hash %q is not canonical base64", ErrMalformedCheckpoint, lines[2])
	}
	var ext []string
	for i, l := range lines[3:] {
		if l == "" {
			return nil, fmt.Errorf("%w: empty extension line %d", ErrMalformedCheckpoint, i+1)
		}
		ext = append(ext, l)
	}
	return &Checkpoint{Origin: origin, Size: size, Hash: root, Extensions: ext, Raw: body}, nil
}

// parseDecimal parses a canonical ASCII decimal (no sign, no leading zeros) that fits a uint64.
func parseDecimal(s string) (uint64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("not a decimal number")
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("leading zero")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("out of range")
	}
	return n, nil
}

// OpenCheckpoint parses a C2SP signed note whose body is a tlog-checkpoint and verifies one
// signature on it from one of keys. It returns the checkpoint and the key that verified it.
//
// Ed25519 signatures follow C2SP signed-note (golang.org/x/mod/sumdb/note): the key hint is the
// first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key) and the signature line's name must
// equal the key name. ECDSA signatures are read as Rekor v1 writes them: the key hint is the first
// 4 bytes of SHA-256 of the PKIX DER public key, the signature is ASN.1 over the SHA-2 digest of
// the body (SHA-256 for P-256, SHA-384 for P-384, SHA-512 for P-521), and the line's name is not
// checked. ECDSA keys marked TreeHead are read as C2SP static-ct-api writes them: a CT log's
// RFC 6962 TreeHeadSignature, key hint SHA-256(name || 0x0A || 0x05 || log ID)[:4], the name
// checked, and no extension lines in the checkpoint. A signature whose hint matches a key but
// does not verify fails the whole note.
func OpenCheckpoint(signedNote []byte, keys []LogKey) (*Checkpoint, *LogKey, error) {
	cp, k, _, _, err := openCheckpoint(signedNote, keys)
	return cp, k, err
}

// TrimCheckpoint verifies a signed checkpoint note as OpenCheckpoint does and returns it with
// the note reduced to its text and the one signature line that verified (other logs' and
// witnesses' signatures dropped): what a witness keeps and serves beside its own cosignature.
// The checkpoint's Raw is the reduced note.
func TrimCheckpoint(signedNote []byte, keys []LogKey) (*Checkpoint, error) {
	cp, _, text, sig, err := openCheckpoint(signedNote, keys)
	if err != nil {
		return nil, err
	}
	raw := append(append([]byte(nil), text...), '\n')
	cp.Raw = append(raw, sig.line()...)
	return cp, nil
}

// openCheckpoint is OpenCheckpoint, also returning the note text and the signature that verified.
func openCheckpoint(signedNote []byte, keys []LogKey) (*Checkpoint, *LogKey, []byte, noteSignature, error) {
	text, sigs, err := splitNote(signedNote)
	if err != nil {
		return nil, nil, nil, noteSignature{}, err
	}
	cp, err := ParseCheckpoint(text)
	if err != nil {
		return nil, nil, nil, noteSignature{}, err
	}
	cp.Raw = signedNote
	for i := range keys {
		k := &keys[i]
		v, err := newNoteVerifier(k, cp.Origin)
		if err != nil {
			return nil, nil, nil, noteSignature{}, err
		}
		for _, s := range sigs {
			if s.hint != v.hint || (v.checkName && s.name != v.name) {
				continue
			}
			if !v.verify(text, s.sig) {
				return nil, nil, nil, noteSignature{}, fmt.Errorf("%w: signature by %q (key hint %x) on checkpoint %s", ErrBadSignature, s.name, s.hint, cp)
			}
			if err := checkOrigin(k, cp.Origin); err != nil {
				return nil, nil, nil, noteSignature{}, err
			}
			return cp, k, text, s, nil
		}
	}
	hints := make([]string, 0, len(sigs))
	for _, s := range sigs {
		hints = append(hints, fmt.Sprintf("%s/%x", s.name, s.hint))
	}
	return nil, nil, nil, noteSignature{}, fmt.Errorf("%w: checkpoint %s is signed by [%s], none of the %d trusted keys", ErrUnknownKey, cp, strings.Join(hints, " "), len(keys))
}

// checkOrigin applies the rule documented on LogKey.
func checkOrigin(k *LogKey, origin string) error {
	if k.Origin == "" || origin == k.Origin {
		return nil
	}
	if _, isEC := k.PublicKey.(*ecdsa.PublicKey); isEC && !k.TreeHead {
		if id, ok := strings.CutPrefix(origin, k.Origin+" - "); ok {
			if _, err := parseDecimal(id); err == nil {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: checkpoint origin %q, log key origin %q", ErrOriginMismatch, origin, k.Origin)
}

// noteVerifier is a key prepared for matching and verifying note signatures.
type noteVerifier struct {
	name      string
	checkName bool
	hint      [4]byte
	verify    func(msg, sig []byte) bool
}

func newNoteVerifier(k *LogKey, checkpointOrigin string) (*noteVerifier, error) {
	switch pub := k.PublicKey.(type) {
	case ed25519.PublicKey:
		if len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: Ed25519 key of %d bytes", ErrUnsupportedKey, len(pub))
		}
		name := k.Origin
		if name == "" {
			name = checkpointOrigin
		}
		v := &noteVerifier{name: name, checkName: true, verify: func(msg, sig []byte) bool {
			return ed25519.Verify(pub, msg, sig)
		}}
		id := Ed25519KeyID(name, pub)
		copy(v.hint[:], id[:4])
		return v, nil
	case *ecdsa.PublicKey:
		if k.TreeHead {
			tk, err := TreeHeadLogKey(k.Origin, pub)
			if err != nil {
				return nil, err
			}
			name := k.Origin
			if name == "" {
				name = checkpointOrigin
			}
			return treeHeadNoteVerifier(name, pub, tk.KeyID), nil
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("%w: encoding ECDSA key: %v", ErrUnsupportedKey, err)
		}
		var newHash func() hash.Hash
		switch pub.Curve {
		case elliptic.P256():
			newHash = sha256.New
		case elliptic.P384():
			newHash = sha512.New384
		case elliptic.P521():
			newHash = sha512.New
		default:
			return nil, fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedKey, pub.Curve.Params().Name)
		}
		id := sha256.Sum256(der)
		v := &noteVerifier{verify: func(msg, sig []byte) bool {
			h := newHash()
			h.Write(msg)
			return ecdsa.VerifyASN1(pub, h.Sum(nil), sig)
		}}
		copy(v.hint[:], id[:4])
		return v, nil
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, k.PublicKey)
	}
}

// Ed25519KeyID is the C2SP signed-note key ID of an Ed25519 key named name:
// SHA-256(name || 0x0A || 0x01 || public key). Its first 4 bytes are the key hint; the whole is a
// Rekor v2 log's logId.
func Ed25519KeyID(name string, pub ed25519.PublicKey) [32]byte {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', noteAlgEd25519})
	h.Write(pub)
	var id [32]byte
	copy(id[:], h.Sum(nil))
	return id
}
