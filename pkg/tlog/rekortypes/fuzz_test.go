package rekortypes

import (
	"errors"
	"slices"
	"testing"
)

func fuzzSeeds(f *testing.F) [][]byte {
	f.Helper()
	artifact, err := readTestdata("artifact.txt")
	if err != nil {
		f.Fatal(err)
	}
	var seeds [][]byte
	for _, c := range [][3]string{{"ssh", "ssh_ed25519.sig", "ssh_ed25519.pub"}, {"minisign", "minisign.sig", "minisign.pub"}, {"pgp", "pgp.sig.asc", "pgp.pub.asc"}, {"pgp", "pgp.sig.gpg", "pgp.pub.gpg"}} {
		sig, err1 := readTestdata(c[1])
		key, err2 := readTestdata(c[2])
		p, err3 := ProposeRekord(c[0], artifact, sig, key)
		if err := errors.Join(err1, err2, err3); err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, p)
	}
	return seeds
}

// FuzzCanonicalize: no input panics or is accepted without a body that Parse reads back with
// the same index keys (Canonicalize adds only the keys of a DSSE payload).
func FuzzCanonicalize(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte(`{"kind":"dsse","apiVersion":"0.0.1","spec":{"proposedContent":{"envelope":"{}","verifiers":["AA=="]}}}`))
	f.Add([]byte(`{"kind":"intoto","apiVersion":"0.0.2","spec":{"content":{"envelope":{"payload":"AA==","payloadType":"x","signatures":[{"sig":"AA==","publicKey":"AA=="}]}}}}`))
	f.Fuzz(func(t *testing.T, proposed []byte) {
		e, err := Canonicalize(proposed, Limits{MaxBody: 1 << 20})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		p, err := Parse(e.Body)
		if err != nil {
			t.Fatalf("Parse refuses the canonical body: %v", err)
		}
		if e.Kind != "dsse" && e.Kind != "intoto" && !slices.Equal(p.IndexKeys, e.IndexKeys) {
			t.Fatalf("index keys %q, Parse's %q", e.IndexKeys, p.IndexKeys)
		}
	})
}

// FuzzParse: no body panics, and one that Parse accepts is in canonical form.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		if e, err := Canonicalize(s, Limits{}); err == nil {
			f.Add(e.Body)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := Parse(body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		again, err := Parse(e.Body)
		if err != nil || !slices.Equal(again.IndexKeys, e.IndexKeys) {
			t.Fatalf("Parse is not stable: %v", err)
		}
	})
}
