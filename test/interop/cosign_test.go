package interop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cosignPeer is the real cosign binary beside our stack: its own home (so its TUF cache is
// its own), initialised against the stack's TUF mirror, and nothing else: no --trusted-root, no
// --signing-config, no service URLs. What it trusts and where it signs come from our TUF
// repository.
type cosignPeer struct {
	bin  string
	env  []string
	work string
}

func newCosignPeer(t *testing.T, st *devStack) *cosignPeer {
	t.Helper()
	home := t.TempDir()
	c := &cosignPeer{
		bin:  peer(t, "cosign"),
		env:  st.environ("HOME="+home, "TUF_ROOT="+filepath.Join(home, ".sigstore", "root"), "COSIGN_PASSWORD=interop", "COSIGN_YES=true"),
		work: t.TempDir(),
	}
	run(t, c.env, c.bin, "initialize", "--mirror", st.env["COSIGN_LIKE_TUF_MIRROR"], "--root", st.env["COSIGN_LIKE_TUF_ROOT"])
	return c
}

func (c *cosignPeer) ok(t *testing.T, args ...string) result {
	t.Helper()
	r := execute(c.env, c.work, c.bin, args...)
	if r.err != nil {
		t.Fatalf("cosign %s: %v", strings.Join(args, " "), r)
	}
	return r
}

func (c *cosignPeer) fails(t *testing.T, want string, args ...string) result {
	t.Helper()
	r := execute(c.env, c.work, c.bin, args...)
	if r.err == nil {
		t.Fatalf("cosign %s succeeded, want a failure with %q: %v", strings.Join(args, " "), want, r)
	}
	if !strings.Contains(r.stderr+r.stdout, want) {
		t.Fatalf("cosign %s: output lacks %q: %v", strings.Join(args, " "), want, r)
	}
	return r
}

// ours runs cosign-like with the stack's environment in its own home.
type ours struct {
	env  []string
	work string
}

func newOurs(t *testing.T, st *devStack) *ours {
	t.Helper()
	home := t.TempDir()
	return &ours{env: st.environ("HOME="+home, "COSIGN_LIKE_HOME="+filepath.Join(home, ".cosign-like"), "XDG_STATE_HOME="+filepath.Join(home, "state"), "COSIGN_PASSWORD=interop"), work: t.TempDir()}
}

func (o *ours) ok(t *testing.T, args ...string) result {
	t.Helper()
	r := execute(o.env, o.work, ourBinary, args...)
	if r.err != nil {
		t.Fatalf("cosign-like %s: %v", strings.Join(args, " "), r)
	}
	return r
}

func (o *ours) fails(t *testing.T, want string, args ...string) result {
	t.Helper()
	r := execute(o.env, o.work, ourBinary, args...)
	if r.err == nil {
		t.Fatalf("cosign-like %s succeeded, want a failure with %q: %v", strings.Join(args, " "), want, r)
	}
	if !strings.Contains(r.stderr+r.stdout, want) {
		t.Fatalf("cosign-like %s: output lacks %q: %v", strings.Join(args, " "), want, r)
	}
	return r
}

func writeText(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const provenancePredicate = `{"buildDefinition":{"buildType":"https://example.com/build/v1","externalParameters":{"repo":"https://example.com/app"}},"runDetails":{"builder":{"id":"https://example.com/builder"}}}`

// TestCosignKeyless: cosign v3.1.3, initialised from our TUF mirror and given nothing else,
// signs images, blobs and attestations keyless through our CA, CT log, log and TSA; each tool
// verifies the other's, and each refuses the wrong identity.
func TestCosignKeyless(t *testing.T) {
	st := startDevStack(t)
	cosign := newCosignPeer(t, st)
	us := newOurs(t, st)
	issuer := st.env["COSIGN_LIKE_OIDC_ISSUER"]
	alice := st.token(t, "alice@example.com")
	// cosign takes --identity-token as a token or a path; a token longer than a file name is
	// tried as a path first and refused, so it gets the token in a file, as CI systems hand it.
	aliceFile := writeText(t, t.TempDir(), "token", alice)
	who := []string{"--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer}
	wrong := []string{"--certificate-identity", "bob@example.com", "--certificate-oidc-issuer", issuer}

	theirs := strings.TrimSpace(us.ok(t, "dev", "push-sample", st.env["COSIGN_LIKE_REGISTRY"]+"/interop/cosign-signed:v1").stdout)
	mine := strings.TrimSpace(us.ok(t, "dev", "push-sample", st.env["COSIGN_LIKE_REGISTRY"]+"/interop/ours-signed:v1").stdout)

	t.Run("image", func(t *testing.T) {
		cosign.ok(t, "sign", "--identity-token", aliceFile, theirs)
		us.ok(t, append(append([]string{"verify"}, who...), theirs)...)
		us.fails(t, "bob@example.com", append(append([]string{"verify"}, wrong...), theirs)...)

		us.ok(t, "sign", "-y", "--identity-token", alice, mine)
		cosign.ok(t, append(append([]string{"verify"}, who...), mine)...)
		cosign.fails(t, "bob@example.com", append(append([]string{"verify"}, wrong...), mine)...)
	})

	t.Run("blob", func(t *testing.T) {
		blob := writeText(t, cosign.work, "release.tar", "release contents\n")
		cosign.ok(t, "sign-blob", "--identity-token", aliceFile, "--bundle", "cosign.sigstore.json", blob)
		us.ok(t, append(append([]string{"verify-blob"}, who...), "--bundle", filepath.Join(cosign.work, "cosign.sigstore.json"), blob)...)

		ourBlob := writeText(t, us.work, "ours.tar", "our release contents\n")
		us.ok(t, "sign-blob", "-y", "--identity-token", alice, "--bundle", "ours.sigstore.json", ourBlob)
		cosign.ok(t, append(append([]string{"verify-blob"}, who...), "--bundle", filepath.Join(us.work, "ours.sigstore.json"), ourBlob)...)
		cosign.fails(t, "bob@example.com", append(append([]string{"verify-blob"}, wrong...), "--bundle", filepath.Join(us.work, "ours.sigstore.json"), ourBlob)...)
		tampered := writeText(t, us.work, "tampered.tar", "our release contents, changed\n")
		cosign.fails(t, "Error", append(append([]string{"verify-blob"}, who...), "--bundle", filepath.Join(us.work, "ours.sigstore.json"), tampered)...)
	})

	t.Run("attestation", func(t *testing.T) {
		pred := writeText(t, t.TempDir(), "provenance.json", provenancePredicate)
		cosign.ok(t, "attest", "--identity-token", aliceFile, "--type", "slsaprovenance1", "--predicate", pred, theirs)
		us.ok(t, append(append([]string{"verify-attestation", "--type", "slsaprovenance1"}, who...), theirs)...)

		us.ok(t, "attest", "-y", "--identity-token", alice, "--type", "slsaprovenance1", "--predicate", pred, mine)
		out := cosign.ok(t, append(append([]string{"verify-attestation", "--type", "slsaprovenance1"}, who...), mine)...)
		if !strings.Contains(out.stdout, "payload") {
			t.Fatalf("cosign verify-attestation printed no attestation: %v", out)
		}
		cosign.fails(t, "bob@example.com", append(append([]string{"verify-attestation", "--type", "slsaprovenance1"}, wrong...), mine)...)
	})

	t.Run("tree and download", func(t *testing.T) {
		tree := cosign.ok(t, "tree", mine)
		for _, want := range []string{"https://sigstore.dev/cosign/sign/v1 artifacts via OCI referrer", "https://slsa.dev/provenance/v1 artifacts via OCI referrer"} {
			if !strings.Contains(tree.stdout+tree.stderr, want) {
				t.Errorf("cosign tree of our image lacks %s:\n%v", want, tree)
			}
		}
		att := cosign.ok(t, "download", "attestation", "--predicate-type", "https://slsa.dev/provenance/v1", mine)
		lines := strings.Split(strings.TrimSpace(att.stdout), "\n")
		if len(lines) != 1 {
			t.Fatalf("cosign download attestation: want 1 line, got %d:\n%s", len(lines), att.stdout)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &doc); err != nil {
			t.Fatalf("cosign download attestation printed %q: %v", lines[0], err)
		}
	})
}

// TestCosignKeyed: keyed signatures in both layouts, each tool verifying the other's, and each
// refusing another key.
func TestCosignKeyed(t *testing.T) {
	st := startDevStack(t)
	cosign := newCosignPeer(t, st)
	us := newOurs(t, st)
	cosign.ok(t, "generate-key-pair", "--output-key-prefix", "theirs")
	us.ok(t, "generate-key-pair", "--output-key-prefix", "ours")
	us.ok(t, "generate-key-pair", "--output-key-prefix", "other")
	theirKey, theirPub := filepath.Join(cosign.work, "theirs.key"), filepath.Join(cosign.work, "theirs.pub")
	ourKey, ourPub, otherPub := filepath.Join(us.work, "ours.key"), filepath.Join(us.work, "ours.pub"), filepath.Join(us.work, "other.pub")

	for _, layout := range []struct {
		name string
		// sign and verify flags that select the layout in each tool
		cosignSign, cosignVerify, oursSign, oursVerify []string
		// what cosign says when our signature is checked under another key: with a bundle
		// it rebuilds the log entry from the key it is given, so the inclusion proof fails.
		cosignRefusal string
	}{
		{name: "bundle", cosignRefusal: "no matching attestations: failed to verify log inclusion"},
		{
			name:          "legacy",
			cosignSign:    []string{"--new-bundle-format=false", "--use-signing-config=false", "--tlog-upload=false"},
			cosignVerify:  []string{"--new-bundle-format=false", "--insecure-ignore-tlog=true"},
			oursSign:      []string{"--new-bundle-format=false", "--tlog-upload=false"},
			oursVerify:    []string{"--insecure-ignore-tlog"},
			cosignRefusal: "no matching signatures: invalid signature",
		},
	} {
		t.Run(layout.name, func(t *testing.T) {
			theirs := strings.TrimSpace(us.ok(t, "dev", "push-sample", st.env["COSIGN_LIKE_REGISTRY"]+"/interop/keyed-cosign-"+layout.name+":v1").stdout)
			mine := strings.TrimSpace(us.ok(t, "dev", "push-sample", st.env["COSIGN_LIKE_REGISTRY"]+"/interop/keyed-ours-"+layout.name+":v1").stdout)

			cosign.ok(t, append(append([]string{"sign", "--key", theirKey}, layout.cosignSign...), theirs)...)
			us.ok(t, append(append([]string{"verify", "--key", theirPub}, layout.oursVerify...), theirs)...)
			us.fails(t, "signature does not verify under the ECDSA P-256 key", append(append([]string{"verify", "--key", otherPub}, layout.oursVerify...), theirs)...)

			us.ok(t, append(append([]string{"sign", "--key", ourKey, "-a", "env=prod"}, layout.oursSign...), mine)...)
			cosign.ok(t, append(append([]string{"verify", "--key", ourPub, "-a", "env=prod"}, layout.cosignVerify...), mine)...)
			cosign.fails(t, layout.cosignRefusal, append(append([]string{"verify", "--key", otherPub}, layout.cosignVerify...), mine)...)

			dl := cosign.ok(t, "download", "signature", mine)
			if strings.TrimSpace(dl.stdout) == "" {
				t.Fatalf("cosign download signature printed nothing for our %s signature: %v", layout.name, dl)
			}
		})
	}
}
