package rekortypes

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

// The files under testdata were made by the real tools: ssh-keygen -Y sign -n file (and -n git,
// and -O hashalg=sha256),
// minisign -S (pre-hashed) and minisign -S -l (legacy), gpg --detach-sign with and without
// --armor and the key exported both ways; each signs artifact.txt.
func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := readTestdata(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readTestdata(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }

func TestRekordFormats(t *testing.T) {
	artifact := testdata(t, "artifact.txt")
	cases := []struct{ name, format, sig, key string }{
		{"ssh", "ssh", "ssh_ed25519.sig", "ssh_ed25519.pub"},
		{"minisign pre-hashed", "minisign", "minisign.sig", "minisign.pub"},
		{"minisign legacy", "minisign", "minisign.legacy.sig", "minisign.pub"},
		{"pgp armored", "pgp", "pgp.sig.asc", "pgp.pub.asc"},
		{"pgp binary", "pgp", "pgp.sig.gpg", "pgp.pub.gpg"},
		{"pgp binary signature, armored key", "pgp", "pgp.sig.gpg", "pgp.pub.asc"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			proposed, err := ProposeRekord(c.format, artifact, testdata(t, c.sig), testdata(t, c.key))
			if err != nil {
				t.Fatal(err)
			}
			e, err := Canonicalize(proposed, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(e.Body), b64(artifact)) {
				t.Fatal("the canonical body keeps the artifact")
			}
			sum := sha256.Sum256(artifact)
			if last := e.IndexKeys[len(e.IndexKeys)-1]; last != "sha256:"+hexOf(sum[:]) {
				t.Fatalf("last index key %q, want the artifact hash", last)
			}
			pk, err := PublicKeyIndexKey(c.format, testdata(t, c.key))
			if err != nil || e.IndexKeys[0] != pk {
				t.Fatalf("first index key %q, PublicKeyIndexKey %q (%v)", e.IndexKeys[0], pk, err)
			}
			if c.format == "pgp" && e.IndexKeys[1] != "alice@example.com" {
				t.Fatalf("pgp index keys %q lack the user ID's email", e.IndexKeys)
			}

			t.Run("another artifact", func(t *testing.T) {
				proposed, _ := ProposeRekord(c.format, []byte("not what was signed\n"), testdata(t, c.sig), testdata(t, c.key))
				_, err := Canonicalize(proposed, Limits{})
				mustInvalid(t, err, "signature does not verify")
				mustInvalid(t, err, "rekord "+c.format)
			})
		})
	}

	t.Run("signify form", func(t *testing.T) {
		lines := strings.SplitN(string(testdata(t, "minisign.legacy.sig")), "\n", 3)
		signify := []byte(lines[0] + "\n" + lines[1] + "\n")
		proposed, _ := ProposeRekord("minisign", artifact, signify, testdata(t, "minisign.pub"))
		e, err := Canonicalize(proposed, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		legacy, _ := ProposeRekord("minisign", artifact, testdata(t, "minisign.legacy.sig"), testdata(t, "minisign.pub"))
		if le, err := Canonicalize(legacy, Limits{}); err != nil || string(le.Body) != string(e.Body) {
			t.Fatalf("the signify form's body differs from the minisign file's (%v)", err)
		}
	})

	refusals := []struct{ name, format, sig, key, want string }{
		{"ssh key, minisign signature", "ssh", "minisign.sig", "ssh_ed25519.pub", "rekord ssh: " + ErrInvalid.Error() + ": ssh signature: no PEM block"},
		{"pgp format, ssh key", "pgp", "pgp.sig.asc", "ssh_ed25519.pub", "rekord pgp: " + ErrInvalid.Error() + ": binary pgp public key"},
		{"minisign format, pgp signature", "minisign", "pgp.sig.asc", "minisign.pub", "neither a minisign nor a signify signature"},
		{"x509 format, minisign key", "x509", "minisign.sig", "minisign.pub", "x509 public key: no PEM block"},
		{"ssh signature in namespace git", "ssh", "ssh_ed25519.git.sig", "ssh_ed25519.pub", `ssh signature namespace "git", want "file"`},
		{"ssh signature over a sha256 hash", "ssh", "ssh_sha256.sig", "ssh_sha256.pub", "signature does not verify (ssh ssh-ed25519, sha256)"},
		{"unknown format", "pkcs7", "pgp.sig.asc", "pgp.pub.asc", `rekord signature format "pkcs7" is not accepted (accepted: minisign, pgp, ssh, x509)`},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			spec := map[string]any{
				"data":      map[string]any{"content": artifact},
				"signature": map[string]any{"format": r.format, "content": testdata(t, r.sig), "publicKey": map[string]any{"content": testdata(t, r.key)}},
			}
			_, err := Canonicalize(proposal(t, "rekord", "0.0.1", spec), Limits{})
			mustInvalid(t, err, r.want)
		})
	}

	good, _ := ProposeRekord("ssh", artifact, testdata(t, "ssh_ed25519.sig"), testdata(t, "ssh_ed25519.pub"))
	edits := []struct{ name, from, to, want string }{
		{"artifact URL", `"data":{`, `"data":{"url":"https://example.com/artifact",`, "spec.data.url: this log takes content inline only"},
		{"signature URL, any case", `"signature":{`, `"signature":{"URL":"https://example.com/sig",`, "spec.signature.URL"},
		{"hash of another artifact", `"data":{`, `"data":{"hash":{"algorithm":"sha256","value":"` + strings.Repeat("0", 64) + `"},`, "the inline artifact's SHA-256 is"},
		{"no artifact", `"content":"` + b64(artifact) + `"`, `"content":""`, "missing spec.data.content"},
		{"content not a string", `"format":"ssh"`, `"format":7`, "spec.signature.format is a JSON number, want a string"},
		{"content not base64", `"content":"` + b64(artifact) + `"`, `"content":"%%%"`, "spec.data.content is not standard base64"},
		{"trailing data", "", `{}`, "proposed entry has data after its JSON object"},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			edited := strings.Replace(string(good), e.from, e.to, 1)
			if e.from == "" {
				edited = string(good) + e.to
			}
			if edited == string(good) {
				t.Fatalf("edit %q found nothing to replace", e.name)
			}
			_, err := Canonicalize([]byte(edited), Limits{})
			mustInvalid(t, err, e.want)
		})
	}
}

func proposal(t *testing.T, kind, version string, spec map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"kind": kind, "apiVersion": version, "spec": spec})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signedEnvelope is a DSSE envelope over an in-toto statement, signed by each key with ECDSA
// over the pre-authentication encoding.
func signedEnvelope(t *testing.T, privs ...*ecdsa.PrivateKey) []byte {
	t.Helper()
	stmt := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + strings.Repeat("1", 64) + `"}}],"predicateType":"https://example.com/p","predicate":{}}`)
	d := sha256.Sum256(bundle.PAE(inTotoPayloadType, stmt))
	var sigs []any
	for _, p := range privs {
		s, err := ecdsa.SignASN1(rand.Reader, p, d[:])
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, map[string]any{"keyid": "", "sig": base64.StdEncoding.EncodeToString(s)})
	}
	b, _ := json.Marshal(map[string]any{"payloadType": inTotoPayloadType, "payload": base64.StdEncoding.EncodeToString(stmt), "signatures": sigs})
	return b
}

func TestEnvelopeKinds(t *testing.T) {
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	env := signedEnvelope(t, k1)
	dsse := func(env []byte, verifiers ...[]byte) []byte {
		return proposal(t, "dsse", "0.0.1", map[string]any{"proposedContent": map[string]any{"envelope": string(env), "verifiers": verifiers}})
	}
	intoto := func(env []byte, keys ...[]byte) []byte {
		var e envelope
		if err := json.Unmarshal(env, &e); err != nil {
			t.Fatal(err)
		}
		var sigs []any
		for i, s := range e.Signatures {
			sigs = append(sigs, map[string]any{"sig": []byte(s.Sig), "publicKey": keys[i]})
		}
		h := sha256.Sum256(env)
		return proposal(t, "intoto", "0.0.2", map[string]any{"content": map[string]any{
			"envelope": map[string]any{"payloadType": e.PayloadType, "payload": []byte(e.Payload), "signatures": sigs},
			"hash":     map[string]any{"algorithm": "sha256", "value": hexOf(h[:])},
		}})
	}

	for name, proposed := range map[string][]byte{"dsse": dsse(env, pemKey(t, &k1.PublicKey)), "intoto": intoto(env, pemKey(t, &k1.PublicKey))} {
		t.Run(name, func(t *testing.T) {
			e, err := Canonicalize(proposed, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if want := "sha256:" + strings.Repeat("1", 64); !strings.Contains(strings.Join(e.IndexKeys, " "), want) {
				t.Fatalf("index keys %q lack the statement's subject %s", e.IndexKeys, want)
			}
			p, err := Parse(e.Body)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.IndexKeys) != len(e.IndexKeys)-1 {
				t.Fatalf("Parse gives %q: want the keys of Canonicalize but the subject's, %q", p.IndexKeys, e.IndexKeys)
			}
		})
	}

	refusals := []struct {
		name     string
		proposed []byte
		lim      Limits
		want     string
	}{
		{"dsse: a verifier that verifies no signature", dsse(env, pemKey(t, &k2.PublicKey)), Limits{}, "dsse: " + ErrInvalid.Error() + ": verifier 0 verifies no signature of the envelope"},
		{"dsse: a signature no verifier accepts", dsse(signedEnvelope(t, k1, k2), pemKey(t, &k1.PublicKey)), Limits{}, "1 of the envelope's signatures verify under none of the keys"},
		{"dsse: computed fields proposed", proposal(t, "dsse", "0.0.1", map[string]any{"payloadHash": map[string]any{}, "proposedContent": map[string]any{}}), Limits{}, "spec.payloadHash is computed by the log"},
		{"dsse: envelope not JSON", dsse([]byte("{"), pemKey(t, &k1.PublicKey)), Limits{}, "spec.proposedContent.envelope is not a DSSE envelope"},
		{"dsse: no verifier", dsse(env), Limits{}, "missing spec.proposedContent.verifiers"},
		{"dsse: too many signatures", dsse(signedEnvelope(t, k1, k1, k1, k1, k1, k1, k1, k1, k1, k1, k1, k1, k1, k1, k1, k1, k1), pemKey(t, &k1.PublicKey)), Limits{}, "17 signatures and 1 keys; this log accepts at most 16"},
		{"dsse: oversized", dsse(env, pemKey(t, &k1.PublicKey)), Limits{MaxBody: 512}, "exceeds the limit of 512"},
		{"intoto: wrong key", intoto(env, pemKey(t, &k2.PublicKey)), Limits{}, "intoto: " + ErrInvalid.Error() + ": verifier 0 verifies no signature"},
		{"intoto: payload URL", []byte(strings.Replace(string(intoto(env, pemKey(t, &k1.PublicKey))), `"envelope":{`, `"envelope":{"url":"https://example.com/e",`, 1)), Limits{}, "spec.content.envelope.url"},
		{"intoto: unknown version", []byte(strings.Replace(string(intoto(env, pemKey(t, &k1.PublicKey))), `"0.0.2"`, `"0.0.1"`, 1)), Limits{}, `intoto apiVersion "0.0.1" is not accepted (accepted: hashedrekord 0.0.1, rekord 0.0.1, dsse 0.0.1, intoto 0.0.2)`},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			_, err := Canonicalize(r.proposed, r.lim)
			mustInvalid(t, err, r.want)
		})
	}
}

func TestIndexKeyHelpers(t *testing.T) {
	hex64 := strings.Repeat("Ab", 32)
	for in, want := range map[string]string{
		hex64:                                "sha256:" + strings.ToLower(hex64),
		"sha256:" + hex64:                    "sha256:" + strings.ToLower(hex64),
		strings.Repeat("a", 40):              "sha1:" + strings.Repeat("a", 40),
		"sha512:" + strings.Repeat("f", 128): "sha512:" + strings.Repeat("f", 128),
	} {
		if got, err := HashIndexKey(in); err != nil || got != want {
			t.Errorf("HashIndexKey(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"sha256:abc", "md5:" + hex64, "sha384:" + strings.Repeat("a", 96), strings.Repeat("a", 96), strings.Repeat("z", 64), "", "sha256:" + hex64 + ":x"} {
		_, err := HashIndexKey(bad)
		mustInvalid(t, err, "is not [sha1:|sha256:|sha512:]")
	}
	_, err := PublicKeyIndexKey("tuf", []byte("{}"))
	mustInvalid(t, err, `public key format "tuf" is not accepted (accepted: minisign, pgp, ssh, x509)`)
	if got := EmailIndexKey("Alice@Example.COM"); got != "alice@example.com" {
		t.Errorf("EmailIndexKey = %q", got)
	}
}

func TestParseRefusals(t *testing.T) {
	for body, want := range map[string]string{
		`[]`: "entry body is a JSON array, want an object",
		`{"apiVersion":"0.0.1","kind":"rpm","spec":{}}`:         `unknown kind "rpm"`,
		`{"apiVersion":"0.0.1","kind":"rekord","spec":{}}`:      "missing spec.signature",
		`{"kind":"rekord","apiVersion":"0.0.1","spec":{}}`:      "not in canonical (RFC 8785) form",
		`{"apiVersion":"0.0.1","kind":"rekord","spec":{"n":1}}`: "a number where Rekor's schema has none",
	} {
		_, err := Parse([]byte(body))
		mustInvalid(t, err, want)
	}
}

func TestCanonicalJSONEscapes(t *testing.T) {
	got, err := canonicalJSON(obj{"b": "\u2028<&>\"\\\x01\n€", "a": []any{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":["x"],"b":"` + "\u2028" + `<&>\"\\\u0001\n€"}`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
