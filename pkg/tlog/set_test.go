package tlog_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

func TestVerifySET(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	body, logID := []byte(`{"kind":"hashedrekord"}`), []byte{1, 2, 3}
	if got, want := string(tlog.SETPayload(body, 17, 4, logID)), `{"body":"eyJraW5kIjoiaGFzaGVkcmVrb3JkIn0=","integratedTime":17,"logID":"010203","logIndex":4}`; got != want {
		t.Fatalf("SET payload %s, want %s", got, want)
	}
	digest := sha256.Sum256(tlog.SETPayload(body, 17, 4, logID))
	set, err := ecdsa.SignASN1(rand.Reader, k, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.VerifySET(&k.PublicKey, set, body, 17, 4, logID); err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, c := range []struct {
		name string
		err  error
	}{
		{"another body", tlog.VerifySET(&k.PublicKey, set, []byte(`{}`), 17, 4, logID)},
		{"another time", tlog.VerifySET(&k.PublicKey, set, body, 18, 4, logID)},
		{"another index", tlog.VerifySET(&k.PublicKey, set, body, 17, 5, logID)},
		{"another log ID", tlog.VerifySET(&k.PublicKey, set, body, 17, 4, []byte{9})},
		{"another key", tlog.VerifySET(&other.PublicKey, set, body, 17, 4, logID)},
	} {
		if !errors.Is(c.err, tlog.ErrBadSET) || !strings.Contains(c.err.Error(), "signed entry timestamp does not verify") {
			t.Errorf("%s: %v, want ErrBadSET", c.name, c.err)
		}
	}
}
