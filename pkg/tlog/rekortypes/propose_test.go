package rekortypes

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"
)

func TestProposeIntoto(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	env := signedEnvelope(t, priv)
	var parsed envelope
	if err := json.Unmarshal(env, &parsed); err != nil {
		t.Fatal(err)
	}
	statement, _ := base64.StdEncoding.DecodeString(parsed.Payload)
	cert := selfSigned(t, priv, "alice@example.com", "https://example.com/ci")
	proposed, err := ProposeIntoto(env, cert)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Canonicalize(proposed, Limits{})
	if err != nil {
		t.Fatalf("the log refuses the proposed intoto entry: %v", err)
	}
	if e.Kind != "intoto" || e.APIVersion != "0.0.2" {
		t.Fatalf("kind %s %s, want intoto 0.0.2", e.Kind, e.APIVersion)
	}
	var body struct {
		Spec struct {
			Content struct {
				Hash, PayloadHash struct{ Algorithm, Value string }
			}
		}
	}
	if err := json.Unmarshal(e.Body, &body); err != nil {
		t.Fatal(err)
	}
	envSum, stSum := sha256.Sum256(env), sha256.Sum256(statement)
	if c := body.Spec.Content; c.Hash.Value != hexOf(envSum[:]) || c.PayloadHash.Value != hexOf(stSum[:]) {
		t.Fatalf("content hash %s and payload hash %s; want the envelope's %x and the statement's %x", c.Hash.Value, c.PayloadHash.Value, envSum, stSum)
	}

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	wrong, err := ProposeIntoto(env, pemKey(t, &other.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Canonicalize(wrong, Limits{})
	mustInvalid(t, err, "intoto")
	_, err = ProposeIntoto([]byte(`{"payloadType":`), cert)
	mustInvalid(t, err, "the DSSE envelope")
	_, err = ProposeIntoto([]byte(`{"payloadType":"x","payload":"","signatures":[]}`), cert)
	mustInvalid(t, err, "no signature")
}
