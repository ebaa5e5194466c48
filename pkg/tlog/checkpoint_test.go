package tlog

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// testEd25519Log makes an Ed25519 note signer with golang.org/x/mod/sumdb/note, an independent
// implementation of the signed-note format, and returns the matching LogKey.
func testEd25519Log(t *testing.T, origin string) (note.Signer, LogKey) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(vkey, "+", 3)
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	pub := ed25519.PublicKey(raw[1:])
	id := Ed25519KeyID(origin, pub)
	return signer, LogKey{Origin: origin, KeyID: id[:], PublicKey: pub}
}

func signNote(t *testing.T, body string, s note.Signer) []byte {
	t.Helper()
	msg, err := note.Sign(&note.Note{Text: body}, s)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// ecdsaNote signs body as Rekor v1 does: key hint = SHA-256(PKIX DER)[:4], ASN.1 over SHA-256.
func ecdsaNote(t *testing.T, body, name string, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	hint := sha256.Sum256(der)
	d := sha256.Sum256([]byte(body))
	sig, err := ecdsa.SignASN1(rand.Reader, k, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return []byte(fmt.Sprintf("%s\n\u2014 %s %s\n", body, name, base64.StdEncoding.EncodeToString(append(hint[:4], sig...))))
}

const testRoot = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

func TestOpenCheckpointEd25519(t *testing.T) {
	signer, key := testEd25519Log(t, "log.example.com")
	_, otherKey := testEd25519Log(t, "log.example.com")
	body := "log.example.com\n42\n" + testRoot + "\nextension line\n"
	msg := signNote(t, body, signer)

	cp, k, err := OpenCheckpoint(msg, []LogKey{otherKey, key})
	if err != nil {
		t.Fatalf("OpenCheckpoint: %v", err)
	}
	if cp.Origin != "log.example.com" || cp.Size != 42 || base64.StdEncoding.EncodeToString(cp.Hash) != testRoot ||
		len(cp.Extensions) != 1 || cp.Extensions[0] != "extension line" || string(cp.Raw) != string(msg) {
		t.Fatalf("unexpected checkpoint %+v", cp)
	}
	if !k.PublicKey.(ed25519.PublicKey).Equal(key.PublicKey) {
		t.Fatalf("returned the wrong key")
	}
	// A key with no origin uses the checkpoint's origin as its name.
	if _, _, err := OpenCheckpoint(msg, []LogKey{{PublicKey: key.PublicKey}}); err != nil {
		t.Fatalf("key without origin: %v", err)
	}

	tampered := strings.Replace(string(msg), "\n42\n", "\n43\n", 1)
	otherOriginSigner, _ := testEd25519Log(t, "other.example.com")
	tests := []struct {
		name    string
		msg     []byte
		keys    []LogKey
		want    error
		message string
	}{
		{"wrong key", msg, []LogKey{otherKey}, ErrUnknownKey, "none of the 1 trusted keys"},
		{"no keys", msg, nil, ErrUnknownKey, "log.example.com"},
		{"tampered body", []byte(tampered), []LogKey{key}, ErrBadSignature, "does not verify"},
		{"origin mismatch", signNote(t, "other.example.com\n1\n"+testRoot+"\n", otherOriginSigner),
			[]LogKey{{Origin: "log.example.com", PublicKey: key.PublicKey}}, ErrUnknownKey, "other.example.com"},
		{"unsupported key", msg, []LogKey{{PublicKey: "not a key"}}, ErrUnsupportedKey, "string"},
		{"oversize", append(make([]byte, MaxNoteSize), msg...), []LogKey{key}, ErrNoteTooLarge, "limit"},
		{"no blank line", []byte(body), []LogKey{key}, ErrMalformedNote, "blank line"},
		{"signature without newline", msg[:len(msg)-1], []LogKey{key}, ErrMalformedNote, "newline"},
		{"ascii dash", []byte(strings.Replace(string(msg), "\u2014", "-", 1)), []LogKey{key}, ErrMalformedNote, "em dash"},
		{"bad base64", []byte(body + "\n\u2014 log.example.com !!!!\n"), []LogKey{key}, ErrMalformedNote, "base64"},
		{"short signature", []byte(body + "\n\u2014 log.example.com AAAA\n"), []LogKey{key}, ErrMalformedNote, "too short"},
		{"control character", []byte("log\x01\n1\n" + testRoot + "\n\n\u2014 log AAAAAAAA\n"), []LogKey{key}, ErrMalformedNote, "control character"},
		{"invalid utf8", []byte("log\xff\n1\n" + testRoot + "\n\n\u2014 log AAAAAAAA\n"), []LogKey{key}, ErrMalformedNote, "UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := OpenCheckpoint(tc.msg, tc.keys)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrCheckpoint) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %q does not mention %q", err, tc.message)
			}
		})
	}
}

func TestOpenCheckpointOriginMismatch(t *testing.T) {
	// The key's name matches the signature but the trusted origin differs from the body's.
	signer, key := testEd25519Log(t, "log.example.com")
	msg := signNote(t, "elsewhere.example.com\n1\n"+testRoot+"\n", signer)
	_, _, err := OpenCheckpoint(msg, []LogKey{{PublicKey: key.PublicKey}})
	if !errors.Is(err, ErrUnknownKey) {
		// With no origin set the name is taken from the body, so the hint cannot match.
		t.Fatalf("got %v, want ErrUnknownKey", err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg = ecdsaNote(t, "elsewhere.example.com\n1\n"+testRoot+"\n", "log.example.com", ec)
	_, _, err = OpenCheckpoint(msg, []LogKey{{Origin: "log.example.com", PublicKey: &ec.PublicKey}})
	if !errors.Is(err, ErrOriginMismatch) || !strings.Contains(err.Error(), "elsewhere.example.com") {
		t.Fatalf("got %v, want ErrOriginMismatch naming the origin", err)
	}
}

func TestOpenCheckpointECDSARekorV1(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	body := "rekor.example.com - 1193050959916656506\n1000\n" + testRoot + "\nTimestamp: 1700000000000000000\n"
	msg := ecdsaNote(t, body, "rekor.example.com", k)

	// Cross-check with an independent ECDSA note verifier.
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	h := sha256.Sum256(der)
	vkey := fmt.Sprintf("rekor.example.com+%08x+%s", h[:4], base64.StdEncoding.EncodeToString(append([]byte{2}, der...)))
	v, err := fnote.NewECDSAVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Fatalf("reference verifier rejects the test note: %v", err)
	}

	for _, origin := range []string{"", "rekor.example.com", "rekor.example.com - 1193050959916656506"} {
		cp, _, err := OpenCheckpoint(msg, []LogKey{{Origin: origin, PublicKey: &k.PublicKey}})
		if err != nil {
			t.Fatalf("origin %q: %v", origin, err)
		}
		if cp.Size != 1000 || cp.Extensions[0] != "Timestamp: 1700000000000000000" {
			t.Fatalf("unexpected checkpoint %+v", cp)
		}
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, _, err := OpenCheckpoint(msg, []LogKey{{PublicKey: &other.PublicKey}}); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("other key: got %v", err)
	}
	bad := []byte(strings.Replace(string(msg), "\n1000\n", "\n1001\n", 1))
	if _, _, err := OpenCheckpoint(bad, []LogKey{{PublicKey: &k.PublicKey}}); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered: got %v", err)
	}
	if _, _, err := OpenCheckpoint(msg, []LogKey{{Origin: "rekor.example.com - x1", PublicKey: &k.PublicKey}}); !errors.Is(err, ErrOriginMismatch) {
		t.Fatalf("other tree ID: got %v", err)
	}
}

func TestParseCheckpoint(t *testing.T) {
	tests := []struct {
		name, body, message string
	}{
		{"no final newline", "o\n1\n" + testRoot, "newline"},
		{"two lines", "o\n1\n", "want origin, size and root hash"},
		{"empty origin", "\n1\n" + testRoot + "\n", "origin"},
		{"leading zero", "o\n01\n" + testRoot + "\n", "leading zero"},
		{"negative", "o\n-1\n" + testRoot + "\n", "not a decimal"},
		{"overflow", "o\n18446744073709551616\n" + testRoot + "\n", "out of range"},
		{"short hash", "o\n1\nAAAA\n", "3 bytes"},
		{"bad base64", "o\n1\n***\n", "root hash"},
		{"non-canonical base64", "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n", "canonical"},
		{"empty extension", "o\n1\n" + testRoot + "\n\nx\n", "empty extension"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCheckpoint([]byte(tc.body))
			if !errors.Is(err, ErrMalformedCheckpoint) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("got %v, want ErrMalformedCheckpoint mentioning %q", err, tc.message)
			}
		})
	}
	cp, err := ParseCheckpoint([]byte("o\n0\n" + testRoot + "\n"))
	if err != nil || cp.Size != 0 || cp.Origin != "o" {
		t.Fatalf("valid body: %v %+v", err, cp)
	}
}

// TestOpenCheckpointRekorV1PublicGood opens a checkpoint the public-good Rekor v1 log signed.
func TestOpenCheckpointRekorV1PublicGood(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/tlog/checkpoints/rekor-v1-public-good.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Origin    string `json:"origin"`
		PublicKey []byte `json:"publicKey"`
		LogID     []byte `json:"logId"`
		Note      string `json:"note"`
		Size      uint64 `json:"size"`
		RootHash  []byte `json:"rootHash"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(v.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	key := LogKey{Origin: v.Origin, KeyID: v.LogID, PublicKey: pub}
	cp, _, err := OpenCheckpoint([]byte(v.Note), []LogKey{key})
	if err != nil {
		t.Fatalf("OpenCheckpoint: %v", err)
	}
	if cp.Size != v.Size || !bytes.Equal(cp.Hash, v.RootHash) {
		t.Fatalf("checkpoint %s, want size %d", cp, v.Size)
	}
	bad := strings.Replace(v.Note, "27657875", "27657876", 1)
	if _, _, err := OpenCheckpoint([]byte(bad), []LogKey{key}); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("altered size: %v", err)
	}
}

// TrimCheckpoint keeps the text and the log's own signature line, whatever else the note carries.
func TestTrimCheckpoint(t *testing.T) {
	signer, key := testEd25519Log(t, "log.example.com")
	other, _ := testEd25519Log(t, "other.example.com")
	body := "log.example.com\n3\n" + testRoot + "\n"
	own := signNote(t, body, signer)
	withOthers := append(bytes.Clone(own), signNote(t, body, other)[len(body)+1:]...)
	withOthers = append([]byte(string(withOthers[:len(body)+1])+"\u2014 unknown.example.com AAAAAAAA\n"), withOthers[len(body)+1:]...)
	cp, err := TrimCheckpoint(withOthers, []LogKey{key})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cp.Raw, own) || cp.Size != 3 {
		t.Fatalf("trimmed note:\n%s\nwant:\n%s", cp.Raw, own)
	}
	if _, err := TrimCheckpoint(signNote(t, body, other), []LogKey{key}); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("another key only: %v", err)
	}
}

// Body gives back the signed text; UnverifiedCheckpoint reads a note without any key.
func TestCheckpointBodyAndUnverified(t *testing.T) {
	signer, _ := testEd25519Log(t, "log.example.com")
	body := "log.example.com\n3\n" + testRoot + "\next one\next two\n"
	n := signNote(t, body, signer)
	cp, err := UnverifiedCheckpoint(n)
	if err != nil {
		t.Fatal(err)
	}
	if string(cp.Body()) != body || !bytes.Equal(cp.Raw, n) {
		t.Fatalf("body %q, raw %q", cp.Body(), cp.Raw)
	}
	if _, err := UnverifiedCheckpoint([]byte(body)); !errors.Is(err, ErrMalformedNote) {
		t.Fatalf("a body without signatures: %v", err)
	}
}
