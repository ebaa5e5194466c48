package tlog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// testWitness is a cosignature signer with a deterministic key.
func testWitness(t testing.TB, name string, seed byte) *CosignatureSigner {
	t.Helper()
	s, err := NewCosignatureSigner(name, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// cosignAt is Cosign with the timestamp given raw, so that tests can make the signatures an honest
// signer refuses to make (a zero timestamp).
func cosignAt(s *CosignatureSigner, ts uint64, body []byte) *Cosignature {
	return &Cosignature{Name: s.Name(), KeyID: s.Verifier().KeyID(), Timestamp: ts,
		Signature: ed25519.Sign(s.priv, CosignatureMessage(ts, body))}
}

const cosignBody = "log.example.com\n42\n" + testRoot + "\n"

// The key ID and the signed message are the ones C2SP tlog-cosignature spells out.
func TestCosignatureFormat(t *testing.T) {
	w := testWitness(t, "witness.example.com/w1", 1)
	pub := w.Verifier().PublicKey()
	h := sha256.Sum256(append([]byte("witness.example.com/w1\n\x04"), pub...))
	if got, want := w.Verifier().KeyID(), binary.BigEndian.Uint32(h[:4]); got != want {
		t.Fatalf("key ID %08x, want %08x", got, want)
	}
	msg := CosignatureMessage(1679315147, []byte(cosignBody))
	if want := "cosignature/v1\ntime 1679315147\n" + cosignBody; string(msg) != want {
		t.Fatalf("message:\n%s\nwant:\n%s", msg, want)
	}
	c, err := w.Cosign([]byte(cosignBody), time.Unix(1679315147, 0))
	if err != nil {
		t.Fatal(err)
	}
	line := string(c.Line())
	prefix := "\u2014 witness.example.com/w1 "
	if !strings.HasPrefix(line, prefix) || !strings.HasSuffix(line, "\n") {
		t.Fatalf("line %q", line)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(line, prefix), "\n"))
	if err != nil || len(raw) != 4+8+64 {
		t.Fatalf("signature of %d bytes: %v", len(raw), err)
	}
	if binary.BigEndian.Uint32(raw) != w.Verifier().KeyID() || binary.BigEndian.Uint64(raw[4:]) != 1679315147 {
		t.Fatalf("key ID or timestamp not at their places: %x", raw[:12])
	}
	if !ed25519.Verify(pub, msg, raw[12:]) {
		t.Fatal("signature is not over the message")
	}
	if got := c.Time(); !got.Equal(time.Unix(1679315147, 0)) {
		t.Fatalf("time %s", got)
	}
}

// transparency-dev/formats, an independent implementation, reads our keys and cosignatures, and
// we read its.
func TestCosignatureInterop(t *testing.T) {
	w := testWitness(t, "witness.example.com/w1", 2)
	logSigner, logKey := testEd25519Log(t, "log.example.com")
	signed := signNote(t, cosignBody, logSigner)
	c, err := w.Cosign([]byte(cosignBody), time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	cosigned := CosignedNote(signed, c)

	theirVerifier, err := fnote.NewVerifierForCosignatureV1(w.Verifier().VerifierKey().String())
	if err != nil {
		t.Fatalf("formats reads our vkey: %v", err)
	}
	if theirVerifier.KeyHash() != w.Verifier().KeyID() {
		t.Fatalf("key IDs differ: %08x and %08x", theirVerifier.KeyHash(), w.Verifier().KeyID())
	}
	n, err := note.Open(cosigned, note.VerifierList(theirVerifier))
	if err != nil || len(n.Sigs) != 1 {
		t.Fatalf("formats verifies our cosignature: %v", err)
	}

	theirSigner, err := fnote.NewSignerForCosignatureV1(w.SignerKey())
	if err != nil {
		t.Fatalf("formats reads our signer key: %v", err)
	}
	theirs, err := note.Sign(&note.Note{Text: cosignBody}, theirSigner)
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.Verifier().VerifyNote(theirs)
	if err != nil {
		t.Fatalf("we verify formats' cosignature: %v", err)
	}
	if got.Timestamp == 0 || got.Name != w.Name() {
		t.Fatalf("cosignature %+v", got)
	}
	if _, _, err := OpenCheckpoint(cosigned, []LogKey{logKey}); err != nil {
		t.Fatalf("the log's signature still verifies beside the cosignature: %v", err)
	}

	back, err := ParseCosignatureSigner(w.SignerKey())
	if err != nil || back.Verifier().KeyID() != w.Verifier().KeyID() || !back.priv.Equal(w.priv) {
		t.Fatalf("signer key round trip: %v", err)
	}
	// The same key in the cosignature form (type 0x04, its key ID) reads as the same signer.
	seed := base64.StdEncoding.EncodeToString(append([]byte{4}, w.priv.Seed()...))
	if back, err := ParseCosignatureSigner(fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s\n", w.Name(), w.Verifier().KeyID(), seed)); err != nil || !back.priv.Equal(w.priv) {
		t.Fatalf("type 0x04 signer key: %v", err)
	}
	if _, err := ParseCosignatureSigner(fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", w.Name(), w.Verifier().KeyID()^1, seed)); !errors.Is(err, ErrMalformedVerifierKey) {
		t.Fatalf("signer key with a wrong key ID: %v", err)
	}
}

// Each case corrupts one thing a verifier must check.
func TestVerifyCosignatureCorruptions(t *testing.T) {
	w := testWitness(t, "witness.example.com/w1", 3)
	other := testWitness(t, "witness.example.com/w1", 4)
	body := []byte(cosignBody)
	good := cosignAt(w, 1700000000, body)
	mutate := func(f func(c *Cosignature)) []byte {
		c := *good
		c.Signature = bytes.Clone(good.Signature)
		f(&c)
		return c.Line()
	}
	rawLine := func(name string, raw []byte) []byte {
		return []byte("\u2014 " + name + " " + base64.StdEncoding.EncodeToString(raw) + "\n")
	}
	tests := []struct {
		name string
		body string
		line []byte
		want error
	}{
		{"valid", cosignBody, good.Line(), nil},
		{"valid_without_newline", cosignBody, bytes.TrimSuffix(good.Line(), []byte("\n")), nil},
		{"wrong_body", "log.example.com\n43\n" + testRoot + "\n", good.Line(), ErrBadCosignature},
		{"extension_line_added", cosignBody + "ext\n", good.Line(), ErrBadCosignature},
		{"other_origin", "other.example.com\n42\n" + testRoot + "\n", good.Line(), ErrBadCosignature},
		{"zero_timestamp", cosignBody, cosignAt(w, 0, body).Line(), ErrCosignatureTimestamp},
		{"timestamp_above_int63", cosignBody, cosignAt(w, 1<<63, body).Line(), ErrCosignatureTimestamp},
		{"timestamp_changed", cosignBody, mutate(func(c *Cosignature) { c.Timestamp++ }), ErrBadCosignature},
		{"flipped_signature_bit", cosignBody, mutate(func(c *Cosignature) { c.Signature[10] ^= 1 }), ErrBadCosignature},
		{"truncated_signature", cosignBody, mutate(func(c *Cosignature) { c.Signature = c.Signature[:63] }), ErrBadCosignature},
		{"unknown_key", cosignBody, cosignAt(other, 1700000000, body).Line(), ErrNoCosignature},
		{"wrong_name", cosignBody, mutate(func(c *Cosignature) { c.Name = "witness.example.com/w2" }), ErrNoCosignature},
		{"wrong_key_id", cosignBody, mutate(func(c *Cosignature) { c.KeyID++ }), ErrNoCosignature},
		{"plain_ed25519_note_signature", cosignBody,
			rawLine(w.Name(), append(binary.BigEndian.AppendUint32(nil, noteKeyID(w.Name(), NoteKeyEd25519, w.Verifier().PublicKey())), ed25519.Sign(w.priv, body)...)),
			ErrNoCosignature},
		{"not_a_signature_line", cosignBody, []byte("-- witness AAAA\n"), ErrMalformedNote},
		{"bad_base64", cosignBody, []byte("\u2014 " + w.Name() + " !!!!\n"), ErrMalformedNote},
		{"body_not_a_checkpoint", "log.example.com\n42\n", good.Line(), ErrMalformedCheckpoint},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := w.Verifier().Verify([]byte(tc.body), tc.line)
			if tc.want == nil {
				if err != nil || c.Timestamp != 1700000000 {
					t.Fatalf("valid cosignature: %+v, %v", c, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			// The same corruption inside a note.
			if tc.name == "body_not_a_checkpoint" || tc.name == "not_a_signature_line" || tc.name == "bad_base64" {
				return
			}
			n := append([]byte(tc.body+"\n"), tc.line...)
			if _, err := w.Verifier().VerifyNote(n); !errors.Is(err, tc.want) {
				t.Fatalf("in a note: err = %v, want %v", err, tc.want)
			}
		})
	}
}

// The signer refuses what a verifier would refuse.
func TestCosignRefuses(t *testing.T) {
	w := testWitness(t, "witness.example.com/w1", 5)
	for name, at := range map[string]time.Time{"epoch": time.Unix(0, 0), "before_epoch": time.Unix(-5, 0)} {
		if _, err := w.Cosign([]byte(cosignBody), at); !errors.Is(err, ErrCosignatureTimestamp) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := w.Cosign([]byte("log\n1\n"), time.Unix(1, 0)); !errors.Is(err, ErrMalformedCheckpoint) {
		t.Errorf("not a checkpoint: err = %v", err)
	}
	for _, name := range []string{"", "a b", "a+b", "a\u00a0b"} {
		if _, err := NewCosignatureSigner(name, w.priv); !errors.Is(err, ErrMalformedVerifierKey) {
			t.Errorf("name %q: err = %v", name, err)
		}
	}
	for _, skey := range []string{"", "PRIVATE+KEY+w+00000000", "PRIVATE+KEY+w+00000000+AQID",
		"PRIVATE+KEY+w+00000000+" + base64.StdEncoding.EncodeToString(append([]byte{0x06}, make([]byte, 32)...))} {
		if _, err := ParseCosignatureSigner(skey); err == nil {
			t.Errorf("signer key %q accepted", skey)
		}
	}
}
