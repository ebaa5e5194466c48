package tlog

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// vkeyOf renders a verifier key of any type, with the key ID computed as C2SP recommends.
func vkeyOf(name string, typ NoteKeyType, pub []byte) string {
	return (&VerifierKey{Name: name, ID: noteKeyID(name, typ, pub), Type: typ, PublicKey: pub}).String()
}

// mldsaVKey is an ML-DSA-44 witness vkey (a key this package parses but cannot verify with).
func mldsaVKey(name string, seed byte) string {
	return vkeyOf(name, NoteKeyMLDSA44, bytes.Repeat([]byte{seed}, mldsa44PublicKeySize))
}

func TestParseVerifierKey(t *testing.T) {
	_, xvkey, err := note.GenerateKey(rand.Reader, "log.example.com")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseVerifierKey(xvkey)
	if err != nil {
		t.Fatalf("x/mod's vkey: %v", err)
	}
	if k.Type != NoteKeyEd25519 || k.Name != "log.example.com" || k.String() != xvkey {
		t.Fatalf("parsed %+v, renders %s", k, k)
	}
	lk, err := k.LogKey()
	if err != nil || lk.Origin != "log.example.com" {
		t.Fatalf("log key %+v, %v", lk, err)
	}
	if back, err := lk.VerifierKey(); err != nil || back.String() != xvkey {
		t.Fatalf("LogKey.VerifierKey %v, %v", back, err)
	}
	if _, err := k.CosignatureVerifier(); err != nil {
		t.Fatalf("a plain Ed25519 key is read as a witness key: %v", err)
	}

	w := testWitness(t, "witness.example.com/w1", 9)
	wk, err := ParseVerifierKey(w.Verifier().VerifierKey().String())
	if err != nil || wk.Type != NoteKeyCosignatureV1 {
		t.Fatalf("cosignature vkey: %+v %v", wk, err)
	}
	if _, err := wk.LogKey(); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("a cosignature key as a log key: %v", err)
	}
	mk, err := ParseVerifierKey(mldsaVKey("pq.example.com", 1))
	if err != nil || mk.Type != NoteKeyMLDSA44 {
		t.Fatalf("ML-DSA-44 vkey: %+v %v", mk, err)
	}
	if _, err := mk.CosignatureVerifier(); !errors.Is(err, ErrUnsupportedCosignatureKey) {
		t.Fatalf("ML-DSA-44 verifier: %v", err)
	}
	if uk, err := ParseVerifierKey("odd.example.com+01020304+" + base64.StdEncoding.EncodeToString([]byte{0x42, 1, 2, 3})); err != nil || uk.Type != 0x42 || uk.Type.String() != "type 0x42" {
		t.Fatalf("unknown type: %+v %v", uk, err)
	}
}

// Each case corrupts a valid Ed25519 vkey.
func TestParseVerifierKeyCorruptions(t *testing.T) {
	pub := bytes.Repeat([]byte{7}, 32)
	good := vkeyOf("log.example.com", NoteKeyEd25519, pub)
	id := noteKeyID("log.example.com", NoteKeyEd25519, pub)
	b64 := func(b ...byte) string { return base64.StdEncoding.EncodeToString(b) }
	tests := map[string]string{
		"key_id_mismatch":         fmt.Sprintf("log.example.com+%08x+%s", id^1, b64(append([]byte{1}, pub...)...)),
		"key_id_of_another_name":  fmt.Sprintf("other.example.com+%08x+%s", id, b64(append([]byte{1}, pub...)...)),
		"key_id_of_another_type":  fmt.Sprintf("log.example.com+%08x+%s", id, b64(append([]byte{4}, pub...)...)),
		"short_key":               fmt.Sprintf("log.example.com+%08x+%s", id, b64(append([]byte{1}, pub[:31]...)...)),
		"short_mldsa_key":         vkeyOf("pq", NoteKeyMLDSA44, make([]byte, 1000)),
		"bad_base64":              fmt.Sprintf("log.example.com+%08x+!!!", id),
		"type_byte_only":          fmt.Sprintf("log.example.com+%08x+%s", id, b64(1)),
		"key_id_not_hex":          "log.example.com+zzzzzzzz+" + b64(append([]byte{1}, pub...)...),
		"key_id_short":            "log.example.com+abc+" + b64(append([]byte{1}, pub...)...),
		"missing_key":             fmt.Sprintf("log.example.com+%08x", id),
		"empty_name":              "+00000000+" + b64(append([]byte{1}, pub...)...),
		"name_with_unicode_space": vkeyOf("log\u2003example", NoteKeyEd25519, pub),
		"empty":                   "",
	}
	if _, err := ParseVerifierKey(good); err != nil {
		t.Fatalf("the uncorrupted key: %v", err)
	}
	for name, vkey := range tests {
		t.Run(name, func(t *testing.T) {
			if k, err := ParseVerifierKey(vkey); !errors.Is(err, ErrMalformedVerifierKey) {
				t.Fatalf("ParseVerifierKey(%q) = %+v, %v; want ErrMalformedVerifierKey", vkey, k, err)
			}
		})
	}
}
