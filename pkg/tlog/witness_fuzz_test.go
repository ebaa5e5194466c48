package tlog

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"testing"
	"time"
)

func FuzzParseVerifierKey(f *testing.F) {
	w := testWitness(f, "witness.example.com/w1", 1)
	f.Add(w.Verifier().VerifierKey().String())
	f.Add(vkeyOf("log.example.com", NoteKeyEd25519, bytes.Repeat([]byte{2}, 32)))
	f.Add(mldsaVKey("pq.example.com", 3))
	f.Add("a+00000000+Qg==")
	f.Add("a+zz+")
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384()} {
		ec, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			f.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
		if err != nil {
			f.Fatal(err)
		}
		id := sha256.Sum256(der)
		f.Add((&VerifierKey{Name: "ct.example.com", ID: treeHeadKeyID("ct.example.com", id[:]), Type: NoteKeyRFC6962, PublicKey: der}).String())
	}
	f.Fuzz(func(t *testing.T, vkey string) {
		k, err := ParseVerifierKey(vkey)
		if err != nil {
			if !errors.Is(err, ErrMalformedVerifierKey) {
				t.Fatalf("error outside ErrMalformedVerifierKey: %v", err)
			}
			return
		}
		back, err := ParseVerifierKey(k.String())
		if err != nil || back.String() != k.String() {
			t.Fatalf("%q renders as %q, which parses to %v, %v", vkey, k, back, err)
		}
		if _, err := k.CosignatureVerifier(); err != nil && !errors.Is(err, ErrUnsupportedCosignatureKey) && !errors.Is(err, ErrMalformedVerifierKey) {
			t.Fatalf("CosignatureVerifier: %v", err)
		}
		if _, err := k.LogKey(); err != nil && !errors.Is(err, ErrUnsupportedKey) {
			t.Fatalf("LogKey of a parsed key: %v", err)
		}
	})
}

// fuzzPolicy is a valid policy over fixed keys, with a note that meets its quorum.
func fuzzPolicy(f *testing.F) (string, []byte) {
	a, b := testWitness(f, "a.example.com", 1), testWitness(f, "b.example.com", 2)
	text := "log " + vkeyOf("log.example.com", NoteKeyEd25519, bytes.Repeat([]byte{3}, 32)) + " https://log.example.com/\n" +
		"witness A " + a.Verifier().VerifierKey().String() + " https://a.example.com/\n" +
		"witness B " + b.Verifier().VerifierKey().String() + "\n" +
		"witness C " + mldsaVKey("c.example.com", 4) + "\n" +
		"# comment\ngroup g 2 A B C\nquorum g\n"
	body := []byte("log.example.com\n3\n" + testRoot + "\n")
	ca, _ := a.Cosign(body, time.Unix(1700000000, 0))
	cb, _ := b.Cosign(body, time.Unix(1700000001, 0))
	return text, CosignedNote(append(body, []byte("\n\u2014 log.example.com AAAAAAAA\n")...), ca, cb)
}

func FuzzParseWitnessPolicy(f *testing.F) {
	text, n := fuzzPolicy(f)
	f.Add([]byte(text), n)
	f.Add([]byte("quorum none\n"), n)
	f.Add([]byte("witness w a+00000000+AAAA\ngroup g any w\ngroup h all g w\nquorum h"), n)
	f.Fuzz(func(t *testing.T, policy, signedNote []byte) {
		p, err := ParseWitnessPolicy(policy)
		if err != nil {
			var pe *PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, ErrMalformedPolicy) {
				t.Fatalf("error is not a *PolicyError: %v", err)
			}
			return
		}
		// With no cosignature only a quorum of none is met (every threshold is at least 1).
		if got := p.QuorumMet(func(string) bool { return false }); got != (p.Quorum == QuorumNone) {
			t.Fatalf("quorum %q met with no cosignature: %v", p.Quorum, got)
		}
		if err := p.Satisfied(signedNote); err != nil && !errors.Is(err, ErrCheckpoint) && !errors.Is(err, ErrCosignature) && !errors.Is(err, ErrQuorumNotMet) {
			t.Fatalf("Satisfied: error outside the families: %v", err)
		}
	})
}

func FuzzParseAddCheckpointRequest(f *testing.F) {
	_, n := fuzzPolicy(f)
	f.Add((&AddCheckpointRequest{OldSize: 2, Proof: refConsistency(2, refLeaves(3)), Checkpoint: n}).Marshal())
	f.Add((&AddCheckpointRequest{Checkpoint: n}).Marshal())
	f.Add([]byte("old 01\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseAddCheckpointRequest(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedWitnessRequest) {
				t.Fatalf("error outside ErrMalformedWitnessRequest: %v", err)
			}
			return
		}
		if len(r.Proof) > MaxConsistencyProofLines || len(r.Checkpoint) == 0 {
			t.Fatalf("accepted %d proof lines, %d-byte checkpoint", len(r.Proof), len(r.Checkpoint))
		}
		back, err := ParseAddCheckpointRequest(r.Marshal())
		if err != nil || back.OldSize != r.OldSize || len(back.Proof) != len(r.Proof) || !bytes.Equal(back.Checkpoint, r.Checkpoint) {
			t.Fatalf("round trip: %+v, %v", back, err)
		}
	})
}

func FuzzVerifyCosignatureNote(f *testing.F) {
	w := testWitness(f, "a.example.com", 1)
	_, n := fuzzPolicy(f)
	f.Add(n)
	f.Add([]byte("o\n1\n" + testRoot + "\n\n\u2014 a.example.com AAAAAAAA\n"))
	f.Fuzz(func(t *testing.T, signedNote []byte) {
		c, err := w.Verifier().VerifyNote(signedNote)
		if err != nil {
			if !errors.Is(err, ErrCheckpoint) && !errors.Is(err, ErrCosignature) {
				t.Fatalf("error outside the families: %v", err)
			}
			return
		}
		if c.Timestamp == 0 || c.Name != w.Name() {
			t.Fatalf("accepted %+v", c)
		}
	})
}
