package tuf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

func FuzzParsePrivateKeyPEM(f *testing.F) {
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []crypto.Signer{ed, ec, p384} {
		pemBytes, err := marshalPrivateKeyPEM(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pemBytes)
		f.Add(append(pemBytes, "trailing"...))
	}
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parsePrivateKeyPEM(data)
		if err != nil {
			return
		}
		ks, err := newKeySigner(s)
		if err != nil {
			t.Fatalf("parsed key is not usable: %v", err)
		}
		again, err := marshalPrivateKeyPEM(s)
		if err != nil {
			t.Fatalf("re-encoding a parsed key: %v", err)
		}
		s2, err := parsePrivateKeyPEM(again)
		if err != nil {
			t.Fatalf("parsing a re-encoded key: %v", err)
		}
		ks2, err := newKeySigner(s2)
		if err != nil || ks2.id != ks.id {
			t.Fatalf("key ID changed across re-encoding: %v", err)
		}
	})
}

func FuzzParseRepoConfig(f *testing.F) {
	f.Add([]byte(`{"keyType":"ed25519","expiry":{"root":"8760h0m0s","targets":"4320h0m0s","snapshot":"720h0m0s","timestamp":"168h0m0s"}}`))
	f.Add([]byte(`{"keyType":"ecdsa-p256","expiry":{"root":"1h","targets":"1h","snapshot":"1h","timestamp":"1h","extra":"1h"}}`))
	f.Add([]byte(`{"keyType":"ed25519","expiry":{"root":"-1h"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keyType, expiry, err := parseRepoConfig(data)
		if err != nil {
			return
		}
		if keyType != KeyEd25519 && keyType != KeyECDSAP256 {
			t.Fatalf("accepted key type %q", keyType)
		}
		if len(expiry) != 4 {
			t.Fatalf("accepted %d expiry entries", len(expiry))
		}
		for role, d := range expiry {
			if checkExpiry(role, d) != nil {
				t.Fatalf("accepted expiry %s for %s", d, role)
			}
		}
	})
}

func FuzzParseRemoteRecord(f *testing.F) {
	f.Add([]byte(`{"mirror":"https://tuf.example.com/"}`))
	f.Add([]byte(`{"mirror":"http://127.0.0.1:8080/tuf"}`))
	f.Add([]byte(`{"mirror":"file:///etc"}`))
	f.Add([]byte(`{"mirror":"https://u:p@h/?q#f"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseRemoteRecord(data)
		if err != nil {
			return
		}
		if !strings.HasPrefix(m, "http://") && !strings.HasPrefix(m, "https://") {
			t.Fatalf("accepted mirror %q", m)
		}
	})
}

func FuzzNormalizeMirror(f *testing.F) {
	for _, s := range []string{"https://tuf.example.com/", "http://127.0.0.1:1/a//", "ftp://x", "https://h/#", "http://[::1]:80/x", "https:opaque", "http://h/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		m, err := normalizeMirror(raw)
		if err != nil {
			return
		}
		again, err := normalizeMirror(m)
		if err != nil {
			t.Fatalf("normalized mirror %q refused: %v", m, err)
		}
		if again != m {
			t.Fatalf("normalizing is not idempotent: %q -> %q -> %q", raw, m, again)
		}
		if strings.HasSuffix(m, "/") {
			t.Fatalf("normalized mirror %q ends with a slash", m)
		}
	})
}

func FuzzValidateTargetName(f *testing.F) {
	for _, s := range []string{"trusted_root.json", "signing_config.v0.2.json", "..", ".x", "a/b", "a\\b", "", "x\x00y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if validateTargetName(name) != nil {
			return
		}
		if path.Base(name) != name || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
			t.Fatalf("accepted unsafe target name %q", name)
		}
		if !isPublishedPath("targets/" + strings.Repeat("0", 64) + "." + name) {
			t.Fatalf("target name %q accepted but its published path is not served", name)
		}
	})
}

func FuzzIsPublishedPath(f *testing.F) {
	for _, s := range []string{"timestamp.json", "1.root.json", "root.json", "12.snapshot.json", "3.targets.json",
		"targets/" + strings.Repeat("a", 64) + ".trusted_root.json", "../config.json", "keys/x.pem", "targets/", "0.root.json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !isPublishedPath(p) {
			return
		}
		if path.Clean(p) != p || strings.Contains(p, "..") && !strings.HasPrefix(p, "targets/") {
			t.Fatalf("accepted path %q", p)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "." || seg == ".." || seg == "" || seg == "keys" || seg == "staged" {
				t.Fatalf("accepted path %q with segment %q", p, seg)
			}
		}
	})
}

func FuzzCheckRootChecksum(f *testing.F) {
	f.Add([]byte("{}"), "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
	f.Add([]byte("{}"), "sha256:44136FA355B3678A1146AD16F7E8649E94FB4FC21FE77E8310C060F61CAAFF8A")
	f.Add([]byte("x"), "zz")
	f.Fuzz(func(t *testing.T, root []byte, sum string) {
		if checkRootChecksum(root, sum) != nil {
			return
		}
		want := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(sum), "sha256:"))
		if want != hex.EncodeToString(sha256Sum(root)) {
			t.Fatalf("accepted checksum %q for a root with sha256 %s", sum, hex.EncodeToString(sha256Sum(root)))
		}
	})
}

// FuzzCheckDistinctKeys checks checkDistinctKeys against a reference that compares every pair
// of a role's keys: a refusal names a role that lists one key under both key IDs it names, and
// an accepted document has no such role.
func FuzzCheckDistinctKeys(f *testing.F) {
	for name := range duplicateKeyFixtures(f) {
		for file, data := range readFixture(f, name) {
			if !strings.HasPrefix(file, "targets/") {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(`{"signed":{"_type":"root","keys":{"a":null},"roles":{"root":null,"x":{"keyids":["a","a"],"threshold":1}}},"signatures":[]}`))
	f.Add([]byte(`{"signed":{"_type":"targets","delegations":{"keys":{},"roles":[{"name":"d","keyids":["b"]}]}},"signatures":[]}`))
	f.Add([]byte(`{"signed":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := checkDistinctKeys(data)
		roles := listedRoles(data)
		if err != nil {
			var dup *duplicateKeyError
			if !errors.As(err, &dup) || !errors.Is(err, ErrVerification) || errors.Is(err, ErrFetch) {
				t.Fatalf("refusal %v is not a duplicate key error matching only ErrVerification", err)
			}
			for _, r := range roles {
				if r.name == dup.role && dup.first != dup.second && slices.Contains(r.keyIDs, dup.first) && slices.Contains(r.keyIDs, dup.second) &&
					samePublicKey(r.keys[dup.first], r.keys[dup.second]) {
					return
				}
			}
			t.Fatalf("refusal %v names no role that lists one key under both key IDs", err)
		}
		for _, r := range roles {
			for i, a := range r.keyIDs {
				for _, b := range r.keyIDs[i+1:] {
					if a != b && samePublicKey(r.keys[a], r.keys[b]) {
						t.Fatalf("accepted role %q listing one key under key IDs %s and %s", r.name, a, b)
					}
				}
			}
		}
	})
}

// listedRole is a role of a root or of a targets document's delegations, for the reference.
type listedRole struct {
	name   string
	keyIDs []string
	keys   map[string]*metadata.Key
}

// listedRoles returns every role that data, parsed by go-tuf as root or as targets, lists.
func listedRoles(data []byte) []listedRole {
	var out []listedRole
	if md, err := metadata.Root().FromBytes(data); err == nil {
		for name, r := range md.Signed.Roles {
			if r != nil {
				out = append(out, listedRole{name, r.KeyIDs, md.Signed.Keys})
			}
		}
	}
	if md, err := metadata.Targets().FromBytes(data); err == nil && md.Signed.Delegations != nil {
		d := md.Signed.Delegations
		for _, r := range d.Roles {
			out = append(out, listedRole{r.Name, r.KeyIDs, d.Keys})
		}
		if s := d.SuccinctRoles; s != nil {
			out = append(out, listedRole{s.NamePrefix + "-*", s.KeyIDs, d.Keys})
		}
	}
	return out
}

// samePublicKey compares two TUF keys with the parsed keys' Equal methods.
func samePublicKey(a, b *metadata.Key) bool {
	if a == nil || b == nil {
		return false
	}
	pa, errA := a.ToPublicKey()
	pb, errB := b.ToPublicKey()
	if errA != nil || errB != nil {
		return false
	}
	eq, ok := pa.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(pb)
}
