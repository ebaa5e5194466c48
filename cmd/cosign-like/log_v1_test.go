package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog/logserver"
)

// TestLogV1Flags: the Rekor v1 commands refuse what they cannot act on before they dial, with
// messages naming the flags; --rekor_server is rekor-cli's name of --rekor-url.
func TestLogV1Flags(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Nothing listens here: a command that dialled would fail with a connection error instead.
	url := "http://127.0.0.1:1"
	entry := []string{"--artifact", f, "--signature", f, "--public-key", f}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"log", "get", "--rekor-url", url}, "pass --index (Rekor v2 API), or --uuid or --log-index (Rekor v1 API)"},
		{[]string{"log", "get", "--rekor-url", url, "--index", "0", "--uuid", "ab"}, "pass --index (Rekor v2 API) or --uuid/--log-index (Rekor v1 API), not both"},
		{[]string{"log", "get", "--rekor_server", url, "--uuid", "ab", "--log-index", "1", "--log-key", f}, "pass either --uuid or --log-index, not both"},
		{[]string{"log", "verify", "--rekor-url", url}, "pass --bundle, or --artifact with --signature and --public-key, or --uuid or --log-index"},
		{[]string{"log", "verify", "--rekor-url", url, "--bundle", f, "--uuid", "ab"}, "pass --bundle, or an entry of the Rekor v1 API"},
		{[]string{"log", "verify", "--rekor-url", url, "--artifact", f}, "an entry needs --artifact, --signature and --public-key"},
		{append([]string{"log", "verify", "--rekor-url", url, "--type", "rpm"}, entry...), `--type "rpm": want hashedrekord[:0.0.1] or rekord[:0.0.1]`},
		{append([]string{"log", "verify", "--rekor-url", url, "--pki-format", "ssh"}, entry...), `--type hashedrekord takes --pki-format x509, not "ssh"`},
		{append([]string{"log", "verify", "--rekor-url", url, "--type", "rekord", "--pki-format", "tuf"}, entry...), `rekord signature format "tuf" is not accepted`},
		{append([]string{"log", "verify", "--rekor-url", url, "--type", "rekord", "--pki-format", "ssh"}, entry...), "signature:"},
		{append([]string{"log", "upload", "--rekor_server", url, "--type", "rekord", "--pki-format", "minisign"}, entry...), "no trusted log key: pass --trusted-root or --log-key"},
		{[]string{"log", "upload", "--rekor-url", url}, "an entry needs --artifact, --signature and --public-key"},
		{[]string{"log", "search", "--rekor_server", url}, "an index search needs --sha, --artifact, --public-key or --email"},
		{[]string{"log", "search", "--rekor-url", url, "--sha", "abc"}, `--sha: invalid Rekor entry: hash "abc" is not`},
		{[]string{"log", "search", "--rekor-url", url, "--sha", strings.Repeat("a", 64), "--artifact", f}, "pass either --sha or --artifact, not both"},
		{[]string{"sign-blob", "--key", f, "--bundle", filepath.Join(dir, "b.json"), "--rekor-url", url, "--rekor-api-version", "3", f}, "--rekor-api-version 3: want 1 or 2"},
	} {
		out, err := runLogCmd(t, c.args...)
		if err == nil || !strings.Contains(out+err.Error(), c.want) {
			t.Errorf("%s: %v\n%s\nwant an error with %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
}

// TestLogV1Commands: log upload, get, search and verify on the Rekor v1 API of a log served
// in-process on loopback; each failed step of verify is named.
func TestLogV1Commands(t *testing.T) {
	dir, url := startLogServer(t)
	tr := filepath.Join(dir, logserver.TrustedRootFile)
	common := []string{"--rekor-url", url, "--trusted-root", tr, "--state-dir", t.TempDir()}
	work := t.TempDir()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	pub := filepath.Join(work, "key.pub")
	writeFile(t, pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	signed := func(name string) []string {
		art := filepath.Join(work, name)
		writeFile(t, art, []byte("artifact "+name))
		digest := sha256.Sum256([]byte("artifact " + name))
		sig, err := ecdsa.SignASN1(rand.Reader, k, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, art+".sig", sig)
		return []string{"--artifact", art, "--signature", art + ".sig", "--public-key", pub}
	}
	a, b := signed("a"), signed("b")
	created := regexp.MustCompile(`^Created entry at index (\d+), available at: ` + regexp.QuoteMeta(url) + `/api/v1/log/entries/([0-9a-f]{80})\n$`)
	var uuids []string
	for _, entry := range [][]string{a, append(b, "--type", "rekord")} {
		out, err := runLogCmd(t, append(append([]string{"log", "upload"}, common...), entry...)...)
		m := created.FindStringSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("log upload: %v\n%s", err, out)
		}
		uuids = append(uuids, m[2])
	}
	out, err := runLogCmd(t, append(append([]string{"log", "upload"}, common...), a...)...)
	if err != nil || out != "Entry already exists; available at: "+url+"/api/v1/log/entries/"+uuids[0]+"\n" {
		t.Fatalf("second log upload: %v\n%s", err, out)
	}

	out, err = runLogCmd(t, append([]string{"log", "get", "--uuid", uuids[0], "-o", "json"}, common...)...)
	var got struct {
		UUID     string
		LogIndex int
		Body     map[string]json.RawMessage
	}
	if err != nil || json.Unmarshal([]byte(out), &got) != nil || got.UUID != uuids[0] || got.Body["HashedRekordObj"] == nil {
		t.Fatalf("log get --uuid -o json: %v\n%s", err, out)
	}
	out, err = runLogCmd(t, append([]string{"log", "get", "--log-index", "1"}, common...)...)
	if err != nil || !strings.Contains(out, "UUID: "+uuids[1]+"\n") || !strings.Contains(out, `"RekordObj"`) {
		t.Fatalf("log get --log-index: %v\n%s", err, out)
	}
	out, err = runLogCmd(t, append([]string{"log", "search", "--public-key", pub}, common[:2]...)...)
	if err != nil || len(strings.Fields(out)) != 2 {
		t.Fatalf("log search --public-key: %v\n%s", err, out)
	}
	out, err = runLogCmd(t, append(append([]string{"log", "search"}, common[:2]...), a[:2]...)...)
	if err != nil || strings.TrimSpace(out) != uuids[0] {
		t.Fatalf("log search --artifact: %v\n%s", err, out)
	}

	out, err = runLogCmd(t, append(append([]string{"log", "verify"}, common...), a...)...)
	if err != nil || !strings.Contains(out, "signature: verified\nentry body: matches") || !strings.Contains(out, "SET: verified") || !strings.Contains(out, "inclusion proof: verified") {
		t.Fatalf("log verify: %v\n%s", err, out)
	}
	otherKey := filepath.Join(work, "other.pub")
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherDER, _ := x509.MarshalPKIXPublicKey(&other.PublicKey)
	writeFile(t, otherKey, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: otherDER}))
	for _, c := range []struct {
		args []string
		want string
	}{
		{append(append([]string{}, a[:4]...), "--public-key", otherKey), "signature:"},
		{append([]string{"--uuid", uuids[1]}, a...), "entry body: entry " + uuids[1] + " (index 1) is not the entry of this artifact"},
		{append([]string{"--log-index", "1", "--type", "rekord"}, a...), "entry body:"},
		{[]string{"--uuid", strings.Repeat("0", 64)}, "not found"},
	} {
		out, err := runLogCmd(t, append(append([]string{"log", "verify"}, common...), c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("log verify %v: %v\n%s\nwant an error with %q", c.args, err, out, c.want)
		}
	}
	// A trusted key that is not the log's: the SET fails.
	out, err = runLogCmd(t, "log", "verify", "--rekor-url", url, "--log-key", otherKey, "--state-dir", t.TempDir(), "--uuid", uuids[0])
	if err == nil || !strings.Contains(err.Error(), "SET: ") {
		t.Errorf("log verify under another log key: %v\n%s", err, out)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSignBlobWithV1Log: sign-blob and attest-blob log to the Rekor v1 API with
// --rekor-api-version 1; the bundle carries the entry with its SET and inclusion proof, and
// verify-blob and verify-blob-attestation accept it and refuse another file.
func TestSignBlobWithV1Log(t *testing.T) {
	dir, url := startLogServer(t)
	tr := filepath.Join(dir, logserver.TrustedRootFile)
	work := t.TempDir()
	t.Setenv(passwordEnv, "pw")
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	prefix := filepath.Join(work, "k")
	if _, stderr, err := runKeysCmd(t, "generate-key-pair", "--output-key-prefix", prefix); err != nil {
		t.Fatalf("generate-key-pair: %v\n%s", err, stderr)
	}
	blob, other, bundlePath := filepath.Join(work, "blob"), filepath.Join(work, "other"), filepath.Join(work, "b.json")
	writeFile(t, blob, []byte("signed through the Rekor v1 API"))
	writeFile(t, other, []byte("something else"))
	if out, err := runLogCmd(t, "sign-blob", "--key", prefix+".key", "--rekor-url", url, "--rekor-api-version", "1", "--trusted-root", tr, "--bundle", bundlePath, blob); err != nil {
		t.Fatalf("sign-blob: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		VerificationMaterial struct {
			TlogEntries []struct {
				KindVersion      struct{ Kind, Version string }
				InclusionPromise *struct{ SignedEntryTimestamp string }
				InclusionProof   *struct{ Checkpoint struct{ Envelope string } }
			}
		}
	}
	if err := json.Unmarshal(raw, &b); err != nil || len(b.VerificationMaterial.TlogEntries) != 1 {
		t.Fatalf("bundle: %v\n%s", err, raw)
	}
	e := b.VerificationMaterial.TlogEntries[0]
	if e.KindVersion.Kind != "hashedrekord" || e.KindVersion.Version != "0.0.1" || e.InclusionPromise == nil || e.InclusionProof == nil || !strings.Contains(e.InclusionProof.Checkpoint.Envelope, "127.0.0.1 - ") {
		t.Fatalf("the bundle's entry is not a Rekor v1 entry with SET and proof:\n%s", raw)
	}
	verify := []string{"verify-blob", "--key", prefix + ".pub", "--trusted-root", tr, "--witness-policy=", "--bundle", bundlePath}
	if out, err := runLogCmd(t, append(verify, blob)...); err != nil {
		t.Fatalf("verify-blob: %v\n%s", err, out)
	}
	if out, err := runLogCmd(t, append(verify, other)...); err == nil || !strings.Contains(out+err.Error(), "artifact does not match") {
		t.Fatalf("verify-blob of another file: %v\n%s", err, out)
	}

	// An attestation: its hashedrekord 0.0.1 entry over the DSSE pre-authentication encoding.
	attBundle := filepath.Join(work, "att.json")
	if out, err := runLogCmd(t, "attest-blob", "--key", prefix+".key", "--rekor-url", url, "--rekor-api-version", "1", "--trusted-root", tr,
		"--type", "cyclonedx", "--predicate", attestTestdata("sbom.cdx.json"), "--bundle", attBundle, blob); err != nil {
		t.Fatalf("attest-blob: %v\n%s", err, out)
	}
	verifyAtt := []string{"verify-blob-attestation", "--key", prefix + ".pub", "--trusted-root", tr, "--witness-policy=", "--type", "cyclonedx", "--bundle", attBundle}
	if out, err := runLogCmd(t, append(verifyAtt, blob)...); err != nil {
		t.Fatalf("verify-blob-attestation: %v\n%s", err, out)
	}
	if out, err := runLogCmd(t, append(verifyAtt, other)...); err == nil || !strings.Contains(out+err.Error(), "artifact does not match: the statement's subjects are") {
		t.Fatalf("verify-blob-attestation of another file: %v\n%s", err, out)
	}
}

// TestAttestImageWithV1Log: attest logs an image's attestation to the Rekor v1 API in both
// layouts; in the legacy layout the entry's SET travels in the dev.sigstore.cosign/bundle
// annotation, so verify-attestation, which here demands a log entry, accepts it under the
// trusted root and refuses it under another key.
func TestAttestImageWithV1Log(t *testing.T) {
	dir, url := startLogServer(t)
	tr := filepath.Join(dir, logserver.TrustedRootFile)
	work := t.TempDir()
	t.Setenv(passwordEnv, "pw")
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	key, pub := keyPair(t, work)
	_, otherPub := keyPair(t, t.TempDir())
	host, _ := testutil.NewRegistry(t)
	for _, layout := range []string{"false", "true"} {
		img := testutil.PushRandomImage(t, host, "v1/attest-"+layout).String()
		if out, err := runLogCmd(t, "attest", "--key", key, "--rekor-url", url, "--rekor-api-version", "1", "--trusted-root", tr,
			"--type", "cyclonedx", "--predicate", attestTestdata("sbom.cdx.json"), "--new-bundle-format="+layout, img); err != nil {
			t.Fatalf("attest --new-bundle-format=%s: %v\n%s", layout, err, out)
		}
		verify := []string{"verify-attestation", "--trusted-root", tr, "--witness-policy=", "--type", "cyclonedx"}
		if out, err := runLogCmd(t, append(verify, "--key", pub, img)...); err != nil {
			t.Fatalf("verify-attestation (--new-bundle-format=%s): %v\n%s", layout, err, out)
		}
		if out, err := runLogCmd(t, append(verify, "--key", otherPub, img)...); err == nil {
			t.Fatalf("verify-attestation under another key (--new-bundle-format=%s) passed:\n%s", layout, out)
		}
	}
	// The same verification refuses a legacy attestation that was never logged.
	img := testutil.PushRandomImage(t, host, "v1/attest-unlogged").String()
	if out, err := runLogCmd(t, "attest", "--key", key, "--tlog-upload=false", "--type", "cyclonedx", "--predicate", attestTestdata("sbom.cdx.json"), "--new-bundle-format=false", img); err != nil {
		t.Fatalf("attest --tlog-upload=false: %v\n%s", err, out)
	}
	if out, err := runLogCmd(t, "verify-attestation", "--trusted-root", tr, "--witness-policy=", "--type", "cyclonedx", "--key", pub, img); err == nil {
		t.Fatalf("verify-attestation of an attestation with no log entry passed:\n%s", out)
	}
}
