package interop

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// v1Log is the stack's log with the Rekor v1 API: the rekorTlogUrls entry of majorApiVersion 1
// in the signing config dev up wrote. A stack without one skips the test.
func v1Log(t *testing.T, st *devStack) string {
	t.Helper()
	data, err := os.ReadFile(st.env["COSIGN_LIKE_SIGNING_CONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	var sc struct {
		RekorTlogURLs []struct {
			URL             string `json:"url"`
			MajorAPIVersion int    `json:"majorApiVersion"`
		} `json:"rekorTlogUrls"`
	}
	if err := json.Unmarshal(data, &sc); err != nil {
		t.Fatalf("signing config: %v", err)
	}
	for _, s := range sc.RekorTlogURLs {
		if s.MajorAPIVersion == 1 {
			return s.URL
		}
	}
	t.Skipf("dev up serves no Rekor v1 API: its signing config lists no rekorTlogUrls entry with majorApiVersion 1:\n%s", data)
	return ""
}

// v1LogKey writes the PEM public key of the Rekor v1 log the trusted root lists at url (what
// containers/image's rekorPublicKeyPath takes) and returns its path: the tlog entry whose logId
// is the SHA-256 of its key, as Rekor v1 names a log (the Rekor v2 log at the same URL is named
// by its checkpoint key ID).
func v1LogKey(t *testing.T, st *devStack, url string) string {
	t.Helper()
	data, err := os.ReadFile(st.env["COSIGN_LIKE_TRUSTED_ROOT"])
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Tlogs []struct {
			BaseURL   string `json:"baseUrl"`
			PublicKey struct {
				RawBytes string `json:"rawBytes"`
			} `json:"publicKey"`
			LogID struct {
				KeyID string `json:"keyId"`
			} `json:"logId"`
		} `json:"tlogs"`
	}
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatalf("trusted root: %v", err)
	}
	for _, l := range tr.Tlogs {
		der, err := base64.StdEncoding.DecodeString(l.PublicKey.RawBytes)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(der)
		if strings.TrimSuffix(l.BaseURL, "/") == strings.TrimSuffix(url, "/") && l.LogID.KeyID == base64.StdEncoding.EncodeToString(sum[:]) {
			return writeText(t, t.TempDir(), "rekor.pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
		}
	}
	t.Fatalf("the trusted root lists no Rekor v1 log (logId = SHA-256 of its key) at %s:\n%s", url, data)
	return ""
}

// signedArtifact is an artifact, its detached signature and the key, as one tool made them.
type signedArtifact struct {
	name, format, entryType string
	artifact, sig, key      string
	// email is an address Rekor indexes the entry under ("" for none).
	email string
}

// rekorArgs are rekor-cli's (and our) flags naming the entry.
func (a signedArtifact) rekorArgs() []string {
	return []string{"--artifact", a.artifact, "--signature", a.sig, "--public-key", a.key, "--pki-format", a.format, "--type", a.entryType}
}

// signedByTools signs a fresh artifact per case with openssl, ssh-keygen, minisign and gpg.
func signedByTools(t *testing.T, dir string) []signedArtifact {
	t.Helper()
	write := func(name string) string {
		return writeText(t, dir, name+".txt", "signed by "+name+" for the Rekor v1 API\n")
	}
	var out []signedArtifact
	keys := opensslKeys(t, dir)
	for _, name := range []string{"ecdsa-p256", "rsa-2048"} {
		k := keys[name]
		a := write("openssl-" + name)
		sig := a + ".sig"
		tool(t, nil, "openssl", "dgst", "-sha256", "-sign", k.priv, "-out", sig, a)
		out = append(out,
			signedArtifact{name: "hashedrekord/x509/" + name + "/cert", format: "x509", entryType: "hashedrekord", artifact: a, sig: sig, key: k.cert, email: "alice@example.com"},
			signedArtifact{name: "rekord/x509/" + name + "/key", format: "x509", entryType: "rekord", artifact: a, sig: sig, key: k.pub})
	}

	a := write("ssh")
	key := filepath.Join(dir, "id_ed25519")
	tool(t, nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@example.com", "-f", key)
	tool(t, nil, "ssh-keygen", "-Y", "sign", "-n", "file", "-f", key, a)
	out = append(out, signedArtifact{name: "rekord/ssh", format: "ssh", entryType: "rekord", artifact: a, sig: a + ".sig", key: key + ".pub"})

	a = write("minisign")
	pub, sec := filepath.Join(dir, "minisign.pub"), filepath.Join(dir, "minisign.key")
	tool(t, nil, "minisign", "-G", "-W", "-p", pub, "-s", sec)
	tool(t, nil, "minisign", "-S", "-s", sec, "-m", a, "-x", a+".minisig")
	out = append(out, signedArtifact{name: "rekord/minisign", format: "minisign", entryType: "rekord", artifact: a, sig: a + ".minisig", key: pub})

	a = write("gpg")
	home := filepath.Join(dir, "gnupg")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"GNUPGHOME=" + home}
	t.Cleanup(func() { _ = exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run() })
	uid := "Alice <alice@example.com>"
	tool(t, env, "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
	tool(t, env, "gpg", "--batch", "--yes", "--local-user", uid, "--detach-sign", "--armor", "-o", a+".asc", a)
	gpgKey := writeText(t, dir, "gpg.pub.asc", string(tool(t, env, "gpg", "--batch", "--armor", "--export", uid)))
	out = append(out, signedArtifact{name: "rekord/pgp", format: "pgp", entryType: "rekord", artifact: a, sig: a + ".asc", key: gpgKey, email: "alice@example.com"})
	return out
}

// createdEntry reads rekor-cli's upload line (which ours prints too) and returns the UUID.
var createdEntry = regexp.MustCompile(`^Created entry at index (\d+), available at: (\S+)/api/v1/log/entries/([0-9a-f]{64,80})\n$`)

func uploadedUUID(t *testing.T, who, out, server string) string {
	t.Helper()
	m := createdEntry.FindStringSubmatch(out)
	if m == nil || strings.TrimSuffix(m[2], "/") != strings.TrimSuffix(server, "/") {
		t.Fatalf("%s upload printed %q, want rekor-cli's line naming %s", who, out, server)
	}
	return m[3]
}

// TestRekorCLI: rekor-cli v1.5.4 uploads, gets, searches and verifies entries of each kind and
// PKI format, signed by the real tools, on our log's Rekor v1 API; our log verify accepts what
// rekor-cli uploaded and refuses another artifact; rekor-cli get and verify accept what our
// log upload wrote.
func TestRekorCLI(t *testing.T) {
	st := startDevStack(t)
	server := v1Log(t, st)
	rekor := peer(t, "rekor-cli")
	rekorEnv := st.environ("HOME=" + t.TempDir())
	us := newOurs(t, st)
	dir := t.TempDir()
	arts := signedByTools(t, dir)
	ourLog := []string{"--rekor-url", server, "--trusted-root", st.env["COSIGN_LIKE_TRUSTED_ROOT"]}

	for _, a := range arts {
		t.Run(a.name, func(t *testing.T) {
			// rekor-cli writes, both read.
			out := run(t, rekorEnv, rekor, append([]string{"upload", "--rekor_server", server}, a.rekorArgs()...)...).stdout
			uuid := uploadedUUID(t, "rekor-cli", out, server)

			var got struct {
				UUID     string
				LogIndex int
				Body     map[string]json.RawMessage
			}
			raw := run(t, rekorEnv, rekor, "get", "--rekor_server", server, "--uuid", uuid, "--format", "json").stdout
			if err := json.Unmarshal([]byte(raw), &got); err != nil || got.UUID != uuid || len(got.Body) != 1 {
				t.Fatalf("rekor-cli get --uuid %s: %v\n%s", uuid, err, raw)
			}
			ours := us.ok(t, append([]string{"log", "get", "--uuid", uuid, "-o", "json"}, ourLog...)...).stdout
			var oursGot struct {
				UUID     string
				LogIndex int
				Body     map[string]json.RawMessage
			}
			if err := json.Unmarshal([]byte(ours), &oursGot); err != nil || oursGot.UUID != uuid || oursGot.LogIndex != got.LogIndex {
				t.Fatalf("our log get --uuid %s: %v\n%s\nrekor-cli's:\n%s", uuid, err, ours, raw)
			}

			run(t, rekorEnv, rekor, append([]string{"verify", "--rekor_server", server}, a.rekorArgs()...)...)
			out = us.ok(t, append(append([]string{"log", "verify"}, ourLog...), a.rekorArgs()...)...).stdout
			for _, want := range []string{"signature: verified", "entry body: matches", "SET: verified", "inclusion proof: verified"} {
				if !strings.Contains(out, want) {
					t.Fatalf("our log verify of rekor-cli's entry printed no %q:\n%s", want, out)
				}
			}
			// Another artifact under the same signature: the signature check fails, and says so.
			other := writeText(t, t.TempDir(), "other.txt", "not what was signed\n")
			wrong := a
			wrong.artifact = other
			us.fails(t, "signature:", append(append([]string{"log", "verify"}, ourLog...), wrong.rekorArgs()...)...)

			// Searches: by the artifact's SHA-256, by the key in its PKI format, by email.
			data, err := os.ReadFile(a.artifact)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			searches := [][]string{{"--sha", hex.EncodeToString(sum[:])}, {"--public-key", a.key, "--pki-format", a.format}}
			if a.email != "" {
				searches = append(searches, []string{"--email", a.email})
			}
			for _, q := range searches {
				found := run(t, rekorEnv, rekor, append([]string{"search", "--rekor_server", server}, q...)...).stdout
				if !slices.ContainsFunc(strings.Fields(found), func(u string) bool { return strings.HasSuffix(uuid, u) || strings.HasSuffix(u, uuid) }) {
					t.Fatalf("rekor-cli search %v does not find %s:\n%s", q, uuid, found)
				}
				found = us.ok(t, append([]string{"log", "search", "--rekor_server", server}, q...)...).stdout
				if !slices.ContainsFunc(strings.Fields(found), func(u string) bool { return strings.HasSuffix(uuid, u) || strings.HasSuffix(u, uuid) }) {
					t.Fatalf("our log search %v does not find %s:\n%s", q, uuid, found)
				}
			}
		})
	}

	t.Run("our upload, rekor-cli reads", func(t *testing.T) {
		for _, a := range arts {
			// A fresh artifact, so that the entry is new: sign it again with openssl.
			if a.format != "x509" {
				continue
			}
			art := writeText(t, t.TempDir(), "ours.txt", "uploaded by cosign-like log upload: "+a.name+"\n")
			priv := strings.TrimSuffix(strings.TrimSuffix(a.key, ".crt"), ".pub") + ".key"
			tool(t, nil, "openssl", "dgst", "-sha256", "-sign", priv, "-out", art+".sig", art)
			mine := a
			mine.artifact, mine.sig = art, art+".sig"
			out := us.ok(t, append(append([]string{"log", "upload"}, ourLog...), mine.rekorArgs()...)...).stdout
			uuid := uploadedUUID(t, "our", out, server)
			run(t, rekorEnv, rekor, "get", "--rekor_server", server, "--uuid", uuid)
			run(t, rekorEnv, rekor, append([]string{"verify", "--rekor_server", server}, mine.rekorArgs()...)...)
			// Uploading it again finds the entry rekor-cli's way.
			again := us.ok(t, append(append([]string{"log", "upload"}, ourLog...), mine.rekorArgs()...)...).stdout
			if !strings.HasPrefix(again, "Entry already exists; available at: ") || !strings.Contains(again, uuid) {
				t.Fatalf("our second upload printed %q", again)
			}
		}
	})
}
