package interop

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	sgverify "github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

// sigstoreJS runs the scripts of test/sigstore-js with the sigstore-js packages that
// scripts/peers.sh installed from that directory's package-lock.json into
// <peerDir>/sigstore-js/node_modules.
type sigstoreJS struct {
	node, scripts, modules string
}

// needSigstoreJS finds node and the installed sigstore-js, or skips the test (fails it in CI).
func needSigstoreJS(t *testing.T) sigstoreJS {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if requireAll() {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed: %v", err)
	}
	scripts, err := filepath.Abs(filepath.Join("..", "sigstore-js"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(scripts, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	installed := filepath.Join(peerDir(), "sigstore-js")
	have, err := os.ReadFile(filepath.Join(installed, "package-lock.json"))
	if err != nil || !bytes.Equal(have, want) {
		missing("sigstore-js is not installed from test/sigstore-js/package-lock.json in %s (run scripts/peers.sh)", installed)
	}
	modules := filepath.Join(installed, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "sigstore", "package.json")); err != nil {
		missing("sigstore-js is not installed in %s (run scripts/peers.sh): %v", modules, err)
	}
	return sigstoreJS{node: node, scripts: scripts, modules: modules}
}

// execute runs one script of test/sigstore-js with node.
func (js sigstoreJS) execute(script string, args ...string) result {
	env := append(os.Environ(), "NODE_PATH="+js.modules)
	return execute(env, js.scripts, js.node, append([]string{filepath.Join(js.scripts, script)}, args...)...)
}

// run runs a script and fails the test unless it succeeds.
func (js sigstoreJS) run(t *testing.T, script string, args ...string) result {
	t.Helper()
	r := js.execute(script, args...)
	if r.err != nil {
		t.Fatalf("sigstore-js %s %s: %v", script, strings.Join(args, " "), r)
	}
	return r
}

// refuse runs a script and fails the test unless it exits non-zero with want in its output.
func (js sigstoreJS) refuse(t *testing.T, want, script string, args ...string) result {
	t.Helper()
	r := js.execute(script, args...)
	if r.err == nil {
		t.Fatalf("sigstore-js %s %s succeeded, want a failure with %q: %v", script, strings.Join(args, " "), want, r)
	}
	if !strings.Contains(r.stderr+r.stdout, want) {
		t.Fatalf("sigstore-js %s %s: output lacks %q: %v", script, strings.Join(args, " "), want, r)
	}
	return r
}

// verifyArgs are the arguments of verify.js for a bundle: the trusted root comes over TUF from
// the stack's mirror into a fresh cache, so each verification starts from the stack's root.json.
func verifyJSArgs(t *testing.T, st *devStack, bundlePath string, policy ...string) []string {
	t.Helper()
	return append([]string{
		"--tuf-mirror", st.env["COSIGN_LIKE_TUF_MIRROR"],
		"--tuf-root", st.env["COSIGN_LIKE_TUF_ROOT"],
		"--tuf-cache", t.TempDir(),
		"--bundle", bundlePath,
	}, policy...)
}

// writeFile writes a file under dir and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// loggedDigest is the digest of the Rekor v2 hashedrekord 0.0.2 entry that a bundle's only
// tlog entry carries; it fails the test when the entry is of another kind.
func loggedDigest(t *testing.T, bundlePath string) []byte {
	t.Helper()
	data, err := os.ReadFile(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", bundlePath, err)
	}
	entries := b.GetVerificationMaterial().GetTlogEntries()
	if len(entries) != 1 {
		t.Fatalf("%s has %d tlog entries, want 1", bundlePath, len(entries))
	}
	kv := entries[0].GetKindVersion()
	if kv.GetKind() != "hashedrekord" || kv.GetVersion() != "0.0.2" {
		t.Fatalf("%s: tlog entry is %s %s, want hashedrekord 0.0.2", bundlePath, kv.GetKind(), kv.GetVersion())
	}
	var body struct {
		Spec struct {
			HashedRekordV002 struct {
				Data struct {
					Algorithm string `json:"algorithm"`
					Digest    []byte `json:"digest"`
				} `json:"data"`
			} `json:"hashedRekordV002"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(entries[0].GetCanonicalizedBody(), &body); err != nil {
		t.Fatalf("%s: canonicalized body: %v", bundlePath, err)
	}
	if a := body.Spec.HashedRekordV002.Data.Algorithm; a != "SHA2_256" {
		t.Fatalf("%s: logged digest algorithm %q, want SHA2_256", bundlePath, a)
	}
	return body.Spec.HashedRekordV002.Data.Digest
}

// envelopeDigests returns SHA-256 of the DSSE pre-authentication encoding of a bundle's
// envelope and SHA-256 of its payload.
func envelopeDigests(t *testing.T, bundlePath string) (pae, payload []byte) {
	t.Helper()
	data, err := os.ReadFile(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", bundlePath, err)
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		t.Fatalf("%s holds no DSSE envelope", bundlePath)
	}
	p := sha256.Sum256(bundle.PAE(env.GetPayloadType(), env.GetPayload()))
	q := sha256.Sum256(env.GetPayload())
	return p[:], q[:]
}

const (
	jsSigner        = "alice@example.com"
	jsOtherIdentity = "mallory@example.com"
	jsPredicateType = "https://example.com/interop/v1"
)

// TestSigstoreJS runs sigstore-js (the npm packages sigstore and @sigstore/sign, pinned in
// test/sigstore-js) against `dev up` as a user starts it: it signs through our CA, log and TSA
// from our signing config for cosign-like to verify, and it verifies what cosign-like signs with
// its trusted root fetched over TUF from our mirror.
func TestSigstoreJS(t *testing.T) {
	js := needSigstoreJS(t)
	st := startDevStack(t)
	dir := t.TempDir()
	issuer := st.env["COSIGN_LIKE_OIDC_ISSUER"]
	artifact := writeFile(t, dir, "artifact.txt", []byte("a release of the interop tests\n"))
	changed := writeFile(t, dir, "changed.txt", []byte("a release of the interop tests, changed\n"))
	digest := sha256.Sum256([]byte("a release of the interop tests\n"))
	// The messages cosign-like gives for a changed file, blob and attestation.
	changedBlob := "artifact does not match: the bundle signs sha256:" + hex.EncodeToString(digest[:])
	changedSubject := "artifact does not match: the statement's subjects are [sha256:" + hex.EncodeToString(digest[:]) + "]"
	wrongIdentity := "identity mismatch: want identity " + jsOtherIdentity + ", certificate has " + jsSigner
	trustedRoot := st.env["COSIGN_LIKE_TRUSTED_ROOT"]
	// The bundles sigstore-js makes through our stack must verify in the other clients too:
	// cosign initialised from our TUF mirror, and sigstore-go on our trusted root.
	cosign := newCosignPeer(t, st)
	trBytes, err := os.ReadFile(trustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	sgo := sigstoreGoKeylessVerifier(t, trBytes)
	sigstoreGoAccepts := func(t *testing.T, bundlePath, file string) {
		t.Helper()
		data, err := os.ReadFile(bundlePath)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := sgo.Verify(toSigstoreGo(t, data), sgverify.NewPolicy(sgverify.WithArtifact(f), identity(t, issuer, jsSigner))); err != nil {
			t.Fatalf("sigstore-go refuses the bundle sigstore-js made through our stack: %v", err)
		}
	}

	t.Run("sigstore-js signs a blob, cosign-like verifies it", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "blob.sigstore.json")
		js.run(t, "sign.js", "--signing-config", st.env["COSIGN_LIKE_SIGNING_CONFIG"], "--identity-token", st.token(t, jsSigner), "--bundle", out, artifact)
		if got := loggedDigest(t, out); !bytes.Equal(got, digest[:]) {
			t.Fatalf("logged digest %x, want the file's %x", got, digest)
		}
		verify := func(identity, file string) []string {
			return []string{"verify-blob", "--bundle", out, "--certificate-identity", identity, "--certificate-oidc-issuer", issuer, "--trusted-root", trustedRoot, file}
		}
		run(t, nil, ourBinary, verify(jsSigner, artifact)...)
		refuse(t, nil, wrongIdentity, ourBinary, verify(jsOtherIdentity, artifact)...)
		refuse(t, nil, changedBlob, ourBinary, verify(jsSigner, changed)...)
		cosign.ok(t, "verify-blob", "--bundle", out, "--certificate-identity", jsSigner, "--certificate-oidc-issuer", issuer, artifact)
		sigstoreGoAccepts(t, out, artifact)
	})

	t.Run("sigstore-js signs an attestation, cosign-like verifies it", func(t *testing.T) {
		statement, err := json.Marshal(map[string]any{
			"_type":         "https://in-toto.io/Statement/v1",
			"subject":       []any{map[string]any{"name": "artifact.txt", "digest": map[string]string{"sha256": hex.EncodeToString(digest[:])}}},
			"predicateType": jsPredicateType,
			"predicate":     map[string]any{"builder": "sigstore-js"},
		})
		if err != nil {
			t.Fatal(err)
		}
		tmp := t.TempDir()
		stmt := writeFile(t, tmp, "statement.json", statement)
		out := filepath.Join(tmp, "attestation.sigstore.json")
		js.run(t, "sign.js", "--signing-config", st.env["COSIGN_LIKE_SIGNING_CONFIG"], "--identity-token", st.token(t, jsSigner), "--payload-type", "application/vnd.in-toto+json", "--bundle", out, stmt)
		// @sigstore/sign asks the log for a dsse 0.0.2 entry; the log answers with the
		// hashedrekord 0.0.2 entry over the envelope's pre-authentication encoding, and
		// sigstore-js puts that answer into its bundle as it is.
		pae, _ := envelopeDigests(t, out)
		if got := loggedDigest(t, out); !bytes.Equal(got, pae) {
			t.Fatalf("logged digest %x, want SHA-256 of the envelope's PAE %x", got, pae)
		}
		verify := func(identity, file string) []string {
			return []string{"verify-blob-attestation", "--bundle", out, "--type", jsPredicateType, "--certificate-identity", identity, "--certificate-oidc-issuer", issuer, "--trusted-root", trustedRoot, file}
		}
		run(t, nil, ourBinary, verify(jsSigner, artifact)...)
		refuse(t, nil, wrongIdentity, ourBinary, verify(jsOtherIdentity, artifact)...)
		refuse(t, nil, changedSubject, ourBinary, verify(jsSigner, changed)...)
		cosign.ok(t, "verify-blob-attestation", "--bundle", out, "--type", jsPredicateType, "--certificate-identity", jsSigner, "--certificate-oidc-issuer", issuer, artifact)
		sigstoreGoAccepts(t, out, artifact)
	})

	t.Run("sigstore-js verifies a keyless blob signature of cosign-like", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "blob.sigstore.json")
		run(t, st.environ(), ourBinary, "sign-blob", "--identity-token", st.token(t, jsSigner), "--bundle", out, "--yes", artifact)
		r := js.run(t, "verify.js", append(verifyJSArgs(t, st, out, "--certificate-identity-email", jsSigner, "--certificate-oidc-issuer", issuer), artifact)...)
		var signer struct {
			SubjectAlternativeName string `json:"subjectAlternativeName"`
			Issuer                 string `json:"issuer"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &signer); err != nil {
			t.Fatalf("verify.js printed %q: %v", r.stdout, err)
		}
		if signer.SubjectAlternativeName != jsSigner || signer.Issuer != issuer {
			t.Fatalf("sigstore-js found signer %+v, want %s from %s", signer, jsSigner, issuer)
		}
		js.refuse(t, "UNTRUSTED_SIGNER_ERROR: certificate identity error - expected "+jsOtherIdentity+", got "+jsSigner,
			"verify.js", append(verifyJSArgs(t, st, out, "--certificate-identity-email", jsOtherIdentity, "--certificate-oidc-issuer", issuer), artifact)...)
		js.refuse(t, "UNTRUSTED_SIGNER_ERROR: invalid certificate extension - expected issuer=https://issuer.example.com, got issuer="+issuer,
			"verify.js", append(verifyJSArgs(t, st, out, "--certificate-identity-email", jsSigner, "--certificate-oidc-issuer", "https://issuer.example.com"), artifact)...)
		js.refuse(t, "SIGNATURE_ERROR: signature verification failed",
			"verify.js", append(verifyJSArgs(t, st, out, "--certificate-identity-email", jsSigner, "--certificate-oidc-issuer", issuer), changed)...)
	})

	t.Run("sigstore-js verifies a keyed blob signature of cosign-like", func(t *testing.T) {
		keys := t.TempDir()
		env := st.environ("COSIGN_PASSWORD=interop")
		for _, prefix := range []string{"cosign", "other"} {
			r := execute(env, keys, ourBinary, "generate-key-pair", "--output-key-prefix", prefix)
			if r.err != nil {
				t.Fatalf("generate-key-pair: %v", r)
			}
		}
		out := filepath.Join(keys, "blob.sigstore.json")
		run(t, env, ourBinary, "sign-blob", "--key", filepath.Join(keys, "cosign.key"), "--bundle", out, "--yes", artifact)
		pub, err := os.ReadFile(filepath.Join(keys, "cosign.pub"))
		if err != nil {
			t.Fatal(err)
		}
		r := js.run(t, "verify.js", append(verifyJSArgs(t, st, out, "--key", filepath.Join(keys, "cosign.pub")), artifact)...)
		var signer struct {
			Key string `json:"key"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &signer); err != nil {
			t.Fatalf("verify.js printed %q: %v", r.stdout, err)
		}
		if signer.Key != string(pub) {
			t.Fatalf("sigstore-js verified with key\n%s\nwant\n%s", signer.Key, pub)
		}
		js.refuse(t, "SIGNATURE_ERROR: signature verification failed",
			"verify.js", append(verifyJSArgs(t, st, out, "--key", filepath.Join(keys, "other.pub")), artifact)...)
		js.refuse(t, "SIGNATURE_ERROR: signature verification failed",
			"verify.js", append(verifyJSArgs(t, st, out, "--key", filepath.Join(keys, "cosign.pub")), changed)...)
	})

	t.Run("sigstore-js 4.1 on an attestation of cosign-like", func(t *testing.T) {
		tmp := t.TempDir()
		predicate := writeFile(t, tmp, "predicate.json", []byte(`{"builder":"cosign-like"}`))
		out := filepath.Join(tmp, "attestation.sigstore.json")
		run(t, st.environ(), ourBinary, "attest-blob", "--identity-token", st.token(t, jsSigner), "--type", jsPredicateType, "--predicate", predicate, "--bundle", out, artifact)
		// We log an attestation as rekor-tiles, sigstore-go and cosign read it: a hashedrekord
		// 0.0.2 entry over SHA-256 of the envelope's pre-authentication encoding, the bytes the
		// signature covers.
		pae, payload := envelopeDigests(t, out)
		if got := loggedDigest(t, out); !bytes.Equal(got, pae) {
			t.Fatalf("logged digest %x, want SHA-256 of the envelope's PAE %x (payload: %x)", got, pae, payload)
		}
		// @sigstore/verify 3.1 (what sigstore 4.1 uses, the last line for Node 20) compares that
		// digest with SHA-256 of the payload instead, so it refuses every such bundle, its own
		// included; @sigstore/verify 4.1 (sigstore 5, Node 22) compares it with the PAE's. When
		// this refusal changes, the peer has changed: check that it now verifies.
		js.refuse(t, "TLOG_BODY_ERROR: digest mismatch",
			"verify.js", verifyJSArgs(t, st, out, "--certificate-identity-email", jsSigner, "--certificate-oidc-issuer", issuer)...)
	})
}
