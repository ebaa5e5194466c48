package tlog

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"testing"

	commonv1 "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

// fuzzKey is a fixed Ed25519 key so that fuzz inputs can carry valid signatures.
func fuzzKey() (ed25519.PrivateKey, LogKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	return priv, LogKey{Origin: "fuzz.example.com", PublicKey: priv.Public()}
}

func FuzzOpenCheckpoint(f *testing.F) {
	priv, key := fuzzKey()
	body := "fuzz.example.com\n3\n" + testRoot + "\n"
	id := Ed25519KeyID(key.Origin, key.PublicKey.(ed25519.PublicKey))
	sig := append(id[:4:4], ed25519.Sign(priv, []byte(body))...)
	valid := []byte(body + "\n\u2014 fuzz.example.com " + b64(sig) + "\n")
	f.Add(valid)
	f.Add([]byte(body))
	f.Add([]byte(body + "\n\u2014 fuzz.example.com AAAAAAAA\n"))
	f.Add([]byte("\n\n\u2014 a b\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		cp, k, err := OpenCheckpoint(msg, []LogKey{key})
		if err != nil {
			if !errors.Is(err, ErrCheckpoint) {
				t.Fatalf("error outside the ErrCheckpoint family: %v", err)
			}
			return
		}
		if k == nil || cp.Origin != key.Origin {
			t.Fatalf("accepted a note with origin %q", cp.Origin)
		}
	})
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("o\n1\n" + testRoot + "\n"))
	f.Add([]byte("o\n1\n" + testRoot + "\next\n"))
	f.Add([]byte("o\n01\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cp, err := ParseCheckpoint(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedCheckpoint) && !errors.Is(err, ErrNoteTooLarge) {
				t.Fatalf("unexpected error family: %v", err)
			}
			return
		}
		if len(cp.Hash) != 32 || cp.Origin == "" {
			t.Fatalf("accepted invalid checkpoint %+v", cp)
		}
	})
}

// splitProof cuts raw into 32-byte hashes (dropping a short tail).
func splitProof(raw []byte) [][]byte {
	var out [][]byte
	for len(raw) >= 32 && len(out) < 200 {
		out = append(out, raw[:32])
		raw = raw[32:]
	}
	return out
}

// FuzzVerifyInclusion checks that no proof other than the reference one verifies for a leaf of a
// reference tree (anything else would be a SHA-256 collision) and that nothing panics.
func FuzzVerifyInclusion(f *testing.F) {
	leaves := refLeaves(20)
	f.Add(uint8(6), uint8(13), bytes.Join(refPath(6, leaves[:13]), nil), false)
	f.Add(uint8(0), uint8(1), []byte{}, false)
	f.Add(uint8(3), uint8(2), []byte{1, 2, 3}, true)
	f.Fuzz(func(t *testing.T, index, size uint8, raw []byte, rawRoot bool) {
		n := int(size) % (len(leaves) + 1)
		root := refRoot(leaves[:n])
		if rawRoot && len(raw) >= 32 {
			root = raw[:32]
		}
		leaf := LeafHash([]byte("absent"))
		if int(index) < n {
			leaf = leaves[index]
		}
		p := splitProof(raw)
		err := VerifyInclusion(uint64(index), uint64(n), leaf, p, root)
		if err == nil {
			if int(index) >= n {
				t.Fatalf("accepted index %d in tree of size %d", index, n)
			}
			want := refPath(int(index), leaves[:n])
			if !bytes.Equal(bytes.Join(p, nil), bytes.Join(want, nil)) || !bytes.Equal(root, refRoot(leaves[:n])) {
				t.Fatalf("accepted a proof that is not the reference proof")
			}
		} else if !errors.Is(err, ErrInclusionProof) {
			t.Fatalf("unexpected error family: %v", err)
		}
	})
}

// FuzzVerifyConsistency is the consistency counterpart of FuzzVerifyInclusion.
func FuzzVerifyConsistency(f *testing.F) {
	leaves := refLeaves(20)
	f.Add(uint8(6), uint8(13), bytes.Join(refConsistency(6, leaves[:13]), nil))
	f.Add(uint8(0), uint8(5), []byte{})
	f.Add(uint8(4), uint8(4), []byte{})
	f.Fuzz(func(t *testing.T, s1, s2 uint8, raw []byte) {
		n1, n2 := int(s1)%(len(leaves)+1), int(s2)%(len(leaves)+1)
		p := splitProof(raw)
		err := VerifyConsistency(uint64(n1), uint64(n2), p, refRoot(leaves[:n1]), refRoot(leaves[:n2]))
		if err == nil {
			if n1 > n2 {
				t.Fatalf("accepted a shrinking tree %d -> %d", n1, n2)
			}
			if !bytes.Equal(bytes.Join(p, nil), bytes.Join(refConsistency(n1, leaves[:n2]), nil)) {
				t.Fatalf("accepted a proof that is not the reference proof")
			}
		} else if !errors.Is(err, ErrConsistencyProof) {
			t.Fatalf("unexpected error family: %v", err)
		}
	})
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// FuzzParseCreateEntryRequest checks that the request parser never panics, that everything it
// accepts re-encodes to a request it accepts again with the same meaning, and that Verify and
// CanonicalBody are total on its output.
func FuzzParseCreateEntryRequest(f *testing.F) {
	f.Add([]byte(`{"hashedRekordRequestV002": {"digest": "AQID", "signature": {"content": "BAU=", "verifier": {"publicKey": {"rawBytes": "Bg=="}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}}`))
	f.Add([]byte(`{"hashed_rekord_request_v002": {"digest": "AQID", "signature": {"content": "BAU", "verifier": {"x509_certificate": {"raw_bytes": "Bg"}, "key_details": 5}}}}`))
	f.Add(fuzzDSSERequest(f))
	f.Add([]byte(`{"dsse_request_v002": {"envelope": {"payload": "e30", "payloadType": "t", "signatures": [{"sig": "AQI", "keyid": ""}]}, "verifiers": [{"public_key": {"raw_bytes": "Bg"}, "key_details": "PKIX_ED25519_PH"}]}}`))
	f.Add([]byte(`{"dsseRequestV002": {"envelope": {"payload": "e30=", "payloadType": "t", "signatures": [{"sig": "AQI="}, null]}, "verifiers": [null, {}]}}`))
	f.Add([]byte(`{"dsseRequestV002": {}}`))
	f.Add([]byte(`[[[[`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseCreateEntryRequest(body)
		if err != nil {
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("error outside ErrInvalidRequest: %v", err)
			}
			return
		}
		_ = r.Verify()
		canon, err := r.CanonicalBody()
		if err != nil {
			t.Fatalf("CanonicalBody of an accepted request: %v", err)
		}
		enc, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ParseCreateEntryRequest(enc)
		if err != nil {
			t.Fatalf("re-encoded request rejected: %v\n%s", err, enc)
		}
		canon2, _ := r2.CanonicalBody()
		if !bytes.Equal(canon, canon2) {
			t.Fatalf("round trip changed the entry:\n%s\n%s", canon, canon2)
		}
		if back, err := ParseHashedRekordEntry(canon); err == nil {
			c3, _ := back.CanonicalBody()
			if !bytes.Equal(c3, canon) {
				t.Fatalf("entry round trip changed the body")
			}
		}
	})
}

// fuzzDSSERequest is a dsseRequestV002 whose envelope carries a valid Ed25519ph signature by
// the fuzz key.
func fuzzDSSERequest(f testing.TB) []byte {
	priv, key := fuzzKey()
	payload := []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)
	digest := sha512.Sum512(bundle.PAE(bundle.PayloadTypeInToto, payload))
	sig, err := priv.Sign(nil, digest[:], &ed25519.Options{Hash: crypto.SHA512})
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(key.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	return []byte(`{"dsseRequestV002": {"envelope": {"payload": "` + b64(payload) + `", "payloadType": "` + bundle.PayloadTypeInToto +
		`", "signatures": [{"sig": "` + b64(sig) + `", "keyid": ""}]}, "verifiers": [{"publicKey": {"rawBytes": "` + b64(der) +
		`"}, "keyDetails": "PKIX_ED25519_PH"}]}}`)
}

// FuzzParseHashedRekordEntry checks the entry parser (used on log contents by the monitor).
func FuzzParseHashedRekordEntry(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"AQID"},"signature":{"content":"BAU=","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":"Bg=="}}}}}}`))
	f.Add([]byte(`{"kind":"dsse"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseHashedRekordEntry(body)
		if err != nil {
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("error outside ErrInvalidRequest: %v", err)
			}
			return
		}
		if _, err := r.CanonicalBody(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDSSEFuzzSeed: the fuzzer starts from a DSSE request the log accepts.
func TestDSSEFuzzSeed(t *testing.T) {
	req, err := ParseCreateEntryRequest(fuzzDSSERequest(t))
	if err == nil {
		err = req.Verify()
	}
	if err != nil || req.KeyDetails != commonv1.PublicKeyDetails_PKIX_ED25519_PH {
		t.Fatalf("fuzz seed: %v", err)
	}
}
