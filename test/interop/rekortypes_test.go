package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-openapi/runtime"
	"github.com/sigstore/rekor/pkg/generated/models"
	rekorpki "github.com/sigstore/rekor/pkg/pki"
	rekortypes "github.com/sigstore/rekor/pkg/types"
	_ "github.com/sigstore/rekor/pkg/types/dsse/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/intoto/v0.0.2"
	_ "github.com/sigstore/rekor/pkg/types/rekord/v0.0.1"
	rekorutil "github.com/sigstore/rekor/pkg/util"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/bundle"
	ourtypes "github.com/cosign-like/cosign-like/pkg/tlog/rekortypes"
)

// rekorCanonicalize runs a proposed entry through Rekor v1.5.4's own types as its server does
// on POST /api/v1/log/entries: CreateVersionedEntry, CanonicalizeEntry, then IndexKeys of that
// entry (lowercased, as its index storage writes them). It also reads the body back as Rekor
// does for a stored entry and returns that entry's index keys.
func rekorCanonicalize(t *testing.T, proposed []byte) (body []byte, keys, storedKeys []string) {
	t.Helper()
	pe, err := models.UnmarshalProposedEntry(bytes.NewReader(proposed), runtime.JSONConsumer())
	if err != nil {
		t.Fatalf("Rekor reads the proposed entry: %v", err)
	}
	ei, err := rekortypes.CreateVersionedEntry(pe)
	if err != nil {
		t.Fatalf("Rekor refuses the proposed entry: %v", err)
	}
	body, err = rekortypes.CanonicalizeEntry(context.Background(), ei)
	if err != nil {
		t.Fatalf("Rekor canonicalizes: %v", err)
	}
	if keys, err = ei.IndexKeys(); err != nil {
		t.Fatalf("Rekor's index keys: %v", err)
	}
	stored, err := models.UnmarshalProposedEntry(bytes.NewReader(body), runtime.JSONConsumer())
	if err != nil {
		t.Fatalf("Rekor reads its body back: %v", err)
	}
	se, err := rekortypes.UnmarshalEntry(stored)
	if err != nil {
		t.Fatalf("Rekor unmarshals its body: %v", err)
	}
	if storedKeys, err = se.IndexKeys(); err != nil {
		t.Fatalf("Rekor's index keys of the stored body: %v", err)
	}
	return body, lower(keys), lower(storedKeys)
}

func lower(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.ToLower(k)
	}
	return out
}

// sameKeys compares index keys as sets with multiplicity: Rekor lists PGP user IDs and in-toto
// digest algorithms in Go map order.
func sameKeys(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// checkSameAsRekor demands that our Canonicalize give Rekor's body and index keys, and our Parse
// of that body the keys Rekor gives for it as a stored entry. Rekor writes a PGP key with
// several user IDs in Go's map order, in the body and again in the key hash of its index keys,
// so that both vary from run to run; ours are one of them (user IDs sorted). Rekor is run until
// it has written each of ours, at most 1024 times (for two user IDs, each run has a chance of
// about 1/8 to write the sorted order).
func checkSameAsRekor(t *testing.T, proposed []byte) {
	t.Helper()
	got, err := ourtypes.Canonicalize(proposed, ourtypes.Limits{})
	if err != nil {
		t.Fatalf("our Canonicalize refuses what Rekor accepts: %v", err)
	}
	parsed, err := ourtypes.Parse(got.Body)
	if err != nil {
		t.Fatalf("our Parse refuses our body: %v", err)
	}
	var bodyRun, keysRun, storedRun int
	var firstBody []byte
	var firstKeys, firstStored []string
	for run := 1; run <= 1024 && (bodyRun == 0 || keysRun == 0 || storedRun == 0); run++ {
		body, keys, stored := rekorCanonicalize(t, proposed)
		if run == 1 {
			firstBody, firstKeys, firstStored = body, keys, stored
		}
		if bodyRun == 0 && bytes.Equal(got.Body, body) {
			bodyRun = run
		}
		if keysRun == 0 && sameKeys(got.IndexKeys, keys) {
			keysRun = run
		}
		if storedRun == 0 && bytes.Equal(got.Body, body) && sameKeys(parsed.IndexKeys, stored) {
			storedRun = run
		}
	}
	switch {
	case bodyRun == 0:
		t.Fatalf("canonical bodies differ\nours:  %s\nRekor: %s", got.Body, firstBody)
	case keysRun == 0:
		t.Fatalf("index keys differ\nours:  %q\nRekor: %q", got.IndexKeys, firstKeys)
	case storedRun == 0:
		t.Fatalf("index keys of the stored body differ\nours:  %q\nRekor: %q", parsed.IndexKeys, firstStored)
	}
	t.Logf("%s %s: %d-byte body, %d index keys, same as Rekor's (Rekor runs %d, %d, %d)", got.Kind, got.APIVersion, len(got.Body), len(got.IndexKeys), bodyRun, keysRun, storedRun)
}

// tool runs a signing tool; a missing one skips the test, or fails it where every program is
// required.
func tool(t *testing.T, env []string, name string, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if testutil.RequireAll() {
			t.Fatalf("%s is not installed (scripts/test-deps.sh installs it)", name)
		}
		t.Skipf("%s is not installed (scripts/test-deps.sh installs it)", name)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openssl keys: name -> private key file, public key PEM, certificate PEM (email and URI SANs).
type opensslKey struct{ priv, pub, cert string }

func opensslKeys(t *testing.T, dir string) map[string]opensslKey {
	t.Helper()
	keys := map[string]opensslKey{}
	gen := map[string][]string{
		"ecdsa-p256": {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"},
		"ecdsa-p384": {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"},
		"rsa-2048":   {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"},
		"ed25519":    {"genpkey", "-algorithm", "ED25519"},
	}
	for name, args := range gen {
		k := opensslKey{priv: filepath.Join(dir, name+".key"), pub: filepath.Join(dir, name+".pub"), cert: filepath.Join(dir, name+".crt")}
		tool(t, nil, "openssl", append(args, "-out", k.priv)...)
		tool(t, nil, "openssl", "pkey", "-in", k.priv, "-pubout", "-out", k.pub)
		tool(t, nil, "openssl", "req", "-x509", "-new", "-key", k.priv, "-subj", "/CN=interop", "-days", "1",
			"-addext", "subjectAltName=email:Alice@Example.com,URI:https://github.com/Owner/Repo/.github/workflows/ci.yml@refs/heads/main",
			"-out", k.cert)
		keys[name] = k
	}
	return keys
}

func TestRekorTypesMatchRekor(t *testing.T) {
	dir := t.TempDir()
	artifact := writeFile(t, dir, "artifact.txt", []byte("an artifact signed by real tools\n"))
	data := readFile(t, artifact)
	sum := sha256.Sum256(data)
	keys := opensslKeys(t, dir)

	t.Run("hashedrekord", func(t *testing.T) {
		for _, name := range []string{"ecdsa-p256", "ecdsa-p384", "rsa-2048"} {
			k := keys[name]
			sig := filepath.Join(dir, name+".hr.sig")
			tool(t, nil, "openssl", "dgst", "-sha256", "-sign", k.priv, "-out", sig, artifact)
			for _, verifier := range []string{k.pub, k.cert} {
				t.Run(name+"/"+filepath.Ext(verifier)[1:], func(t *testing.T) {
					proposed, err := ourtypes.ProposeHashedRekord(sum[:], readFile(t, sig), readFile(t, verifier))
					if err != nil {
						t.Fatal(err)
					}
					checkSameAsRekor(t, proposed)
				})
			}
		}
		t.Run("ecdsa-p256/IEEE P1363 signature", func(t *testing.T) {
			sig := filepath.Join(dir, "p1363.sig")
			tool(t, nil, "openssl", "dgst", "-sha256", "-sign", keys["ecdsa-p256"].priv, "-out", sig, artifact)
			var rs struct{ R, S *big.Int }
			if _, err := asn1.Unmarshal(readFile(t, sig), &rs); err != nil {
				t.Fatal(err)
			}
			p1363 := append(rs.R.FillBytes(make([]byte, 32)), rs.S.FillBytes(make([]byte, 32))...)
			proposed, err := ourtypes.ProposeHashedRekord(sum[:], p1363, readFile(t, keys["ecdsa-p256"].pub))
			if err != nil {
				t.Fatal(err)
			}
			checkSameAsRekor(t, proposed)
		})
		t.Run("certificate chain", func(t *testing.T) {
			root, leaf := keys["ecdsa-p384"], keys["ecdsa-p256"]
			csr := filepath.Join(dir, "leaf.csr")
			tool(t, nil, "openssl", "req", "-new", "-key", leaf.priv, "-subj", "/CN=leaf", "-out", csr)
			ext := writeFile(t, dir, "leaf.ext", []byte("subjectAltName=email:signer@example.com\nextendedKeyUsage=codeSigning\n"))
			leafCert := filepath.Join(dir, "leaf.crt")
			tool(t, nil, "openssl", "x509", "-req", "-in", csr, "-CA", root.cert, "-CAkey", root.priv, "-CAcreateserial", "-days", "1", "-extfile", ext, "-out", leafCert)
			sig := filepath.Join(dir, "leaf.sig")
			tool(t, nil, "openssl", "dgst", "-sha256", "-sign", leaf.priv, "-out", sig, artifact)
			chain := append(readFile(t, leafCert), readFile(t, root.cert)...)
			proposed, err := ourtypes.ProposeHashedRekord(sum[:], readFile(t, sig), chain)
			if err != nil {
				t.Fatal(err)
			}
			checkSameAsRekor(t, proposed)
		})
		t.Run("rsa-2048/sha512", func(t *testing.T) {
			k := keys["rsa-2048"]
			sig := filepath.Join(dir, "rsa.sha512.sig")
			tool(t, nil, "openssl", "dgst", "-sha512", "-sign", k.priv, "-out", sig, artifact)
			d := sha512.Sum512(data)
			checkSameAsRekor(t, proposal(t, "hashedrekord", "0.0.1", map[string]any{
				"data":      map[string]any{"hash": map[string]any{"algorithm": "sha512", "value": hex.EncodeToString(d[:])}},
				"signature": map[string]any{"content": readFile(t, sig), "publicKey": map[string]any{"content": readFile(t, k.cert)}},
			}))
		})
	})

	t.Run("rekord/x509", func(t *testing.T) {
		for _, name := range []string{"ecdsa-p256", "rsa-2048", "ed25519"} {
			k := keys[name]
			sig := filepath.Join(dir, name+".rekord.sig")
			if name == "ed25519" {
				tool(t, nil, "openssl", "pkeyutl", "-sign", "-rawin", "-inkey", k.priv, "-in", artifact, "-out", sig)
			} else {
				tool(t, nil, "openssl", "dgst", "-sha256", "-sign", k.priv, "-out", sig, artifact)
			}
			for _, verifier := range []string{k.pub, k.cert} {
				t.Run(name+"/"+filepath.Ext(verifier)[1:], func(t *testing.T) {
					checkRekord(t, "x509", data, readFile(t, sig), readFile(t, verifier))
				})
			}
		}
	})

	t.Run("rekord/ssh", func(t *testing.T) {
		for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
			t.Run(typ, func(t *testing.T) {
				key := filepath.Join(dir, "id_"+typ)
				tool(t, nil, "ssh-keygen", "-q", "-t", typ, "-N", "", "-C", "Alice@Example.com", "-f", key)
				tool(t, nil, "ssh-keygen", "-Y", "sign", "-n", "file", "-f", key, artifact)
				sig := readFile(t, artifact+".sig")
				if err := os.Remove(artifact + ".sig"); err != nil {
					t.Fatal(err)
				}
				checkRekord(t, "ssh", data, sig, readFile(t, key+".pub"))
			})
		}
	})

	t.Run("rekord/minisign", func(t *testing.T) {
		pub, sec := filepath.Join(dir, "minisign.pub"), filepath.Join(dir, "minisign.key")
		tool(t, nil, "minisign", "-G", "-W", "-p", pub, "-s", sec)
		for mode, extra := range map[string][]string{"prehashed": nil, "legacy": {"-l"}} {
			t.Run(mode, func(t *testing.T) {
				sig := filepath.Join(dir, mode+".minisig")
				tool(t, nil, "minisign", append([]string{"-S", "-s", sec, "-m", artifact, "-x", sig}, extra...)...)
				checkRekord(t, "minisign", data, readFile(t, sig), readFile(t, pub))
			})
		}
	})

	t.Run("rekord/pgp", func(t *testing.T) {
		home := filepath.Join(dir, "gnupg")
		if err := os.Mkdir(home, 0o700); err != nil {
			t.Fatal(err)
		}
		env := []string{"GNUPGHOME=" + home}
		t.Cleanup(func() { _ = exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run() })
		for _, algo := range []string{"ed25519", "rsa3072"} {
			uid := "Alice " + algo + " <alice-" + algo + "@example.com>"
			tool(t, env, "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", uid, algo, "sign", "never")
			// A second user ID: Rekor walks a key's user IDs in map order.
			tool(t, env, "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-add-uid", uid, "Alice at work <Alice.Work-"+algo+"@Example.org>")
			for _, armored := range []bool{true, false} {
				form := map[bool]string{true: "armored", false: "binary"}[armored]
				t.Run(algo+"/"+form, func(t *testing.T) {
					sig := filepath.Join(dir, algo+"."+form+".sig")
					args := []string{"--batch", "--yes", "--local-user", uid, "--detach-sign", "-o", sig}
					exportArgs := []string{"--batch", "--export", uid}
					if armored {
						args = append(args, "--armor")
						exportArgs = append(exportArgs[:1], "--armor", "--export", uid)
					}
					tool(t, env, "gpg", append(args, artifact)...)
					key := tool(t, env, "gpg", exportArgs...)
					checkRekord(t, "pgp", data, readFile(t, sig), key)
				})
			}
		}
	})

	statement := []byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2",` +
		`"subject":[{"name":"artifact.txt","digest":{"sha256":"` + hex.EncodeToString(sum[:]) + `","sha512":"` + strings.Repeat("ab", 64) + `"}}],` +
		`"predicate":{"builder":{"id":"https://example.com/builder"},"buildType":"https://example.com/type",` +
		`"materials":[{"uri":"git+https://example.com/repo","digest":{"sha1":"` + strings.Repeat("cd", 20) + `"}}]}}`)
	// signEnvelope signs the DSSE pre-authentication encoding with openssl (SHA-256, as Rekor
	// verifies envelopes) and returns the envelope JSON and the verifier PEMs.
	signEnvelope := func(t *testing.T, names ...string) ([]byte, [][]byte) {
		t.Helper()
		pae := writeFile(t, dir, "pae", bundle.PAE("application/vnd.in-toto+json", statement))
		env := map[string]any{"payloadType": "application/vnd.in-toto+json", "payload": base64.StdEncoding.EncodeToString(statement)}
		var sigs []any
		var verifiers [][]byte
		for i, name := range names {
			sig := filepath.Join(dir, name+".dsse.sig")
			tool(t, nil, "openssl", "dgst", "-sha256", "-sign", keys[name].priv, "-out", sig, pae)
			sigs = append(sigs, map[string]any{"keyid": []string{"", "key-" + name}[i%2], "sig": base64.StdEncoding.EncodeToString(readFile(t, sig))})
			verifiers = append(verifiers, readFile(t, []string{keys[name].pub, keys[name].cert}[i%2]))
		}
		env["signatures"] = sigs
		b, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		return b, verifiers
	}

	t.Run("dsse", func(t *testing.T) {
		for _, names := range [][]string{{"ecdsa-p256"}, {"rsa-2048", "ecdsa-p256", "ecdsa-p384"}} {
			t.Run(strings.Join(names, "+"), func(t *testing.T) {
				env, verifiers := signEnvelope(t, names...)
				checkSameAsRekor(t, proposal(t, "dsse", "0.0.1", map[string]any{
					"proposedContent": map[string]any{"envelope": string(env), "verifiers": verifiers},
				}))
			})
		}
	})

	t.Run("intoto", func(t *testing.T) {
		for _, names := range [][]string{{"ecdsa-p256"}, {"rsa-2048", "ecdsa-p384"}} {
			t.Run(strings.Join(names, "+"), func(t *testing.T) {
				envJSON, verifiers := signEnvelope(t, names...)
				var env struct {
					PayloadType string `json:"payloadType"`
					Payload     string `json:"payload"`
					Signatures  []struct {
						KeyID string `json:"keyid"`
						Sig   string `json:"sig"`
					} `json:"signatures"`
				}
				if err := json.Unmarshal(envJSON, &env); err != nil {
					t.Fatal(err)
				}
				var sigs []any
				for i, s := range env.Signatures {
					sigs = append(sigs, map[string]any{"keyid": s.KeyID, "sig": []byte(s.Sig), "publicKey": verifiers[i]})
				}
				envHash := sha256.Sum256(envJSON)
				checkSameAsRekor(t, proposal(t, "intoto", "0.0.2", map[string]any{"content": map[string]any{
					"envelope": map[string]any{"payloadType": env.PayloadType, "payload": []byte(env.Payload), "signatures": sigs},
					"hash":     map[string]any{"algorithm": "sha256", "value": hex.EncodeToString(envHash[:])},
				}}))
			})
		}
	})
}

// checkRekord builds the rekord proposal as rekor-cli upload does and compares; the same
// signature over another artifact is refused by both.
func checkRekord(t *testing.T, format string, artifact, sig, key []byte) {
	t.Helper()
	proposed, err := ourtypes.ProposeRekord(format, artifact, sig, key)
	if err != nil {
		t.Fatal(err)
	}
	checkSameAsRekor(t, proposed)
	other, err := ourtypes.ProposeRekord(format, append([]byte("not "), artifact...), sig, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ourtypes.Canonicalize(other, ourtypes.Limits{}); !errors.Is(err, ourtypes.ErrInvalid) {
		t.Fatalf("our Canonicalize of a signature over another artifact: %v, want ErrInvalid", err)
	}
	if rekorAccepts(other) {
		t.Fatal("Rekor accepts a signature over another artifact")
	}
}

// rekorAccepts says whether Rekor's types accept and canonicalize a proposed entry.
func rekorAccepts(proposed []byte) bool {
	pe, err := models.UnmarshalProposedEntry(bytes.NewReader(proposed), runtime.JSONConsumer())
	if err != nil {
		return false
	}
	ei, err := rekortypes.CreateVersionedEntry(pe)
	if err != nil {
		return false
	}
	_, err = rekortypes.CanonicalizeEntry(context.Background(), ei)
	return err == nil
}

// proposal writes a proposed entry; []byte values become base64 as encoding/json writes them.
func proposal(t *testing.T, kind, version string, spec map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"kind": kind, "apiVersion": version, "spec": spec})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRekorSearchKeysMatchRekor: the keys of an index search (POST /api/v1/index/retrieve) are
// Rekor's: a hash prefixed and lowercased as its search handler does, a public key hashed in
// its canonical form as Rekor's PKI formats write it.
func TestRekorSearchKeysMatchRekor(t *testing.T) {
	for _, h := range []string{strings.Repeat("Ab", 32), "sha256:" + strings.Repeat("0F", 32), strings.Repeat("c", 40), "sha512:" + strings.Repeat("E", 128)} {
		got, err := ourtypes.HashIndexKey(h)
		if want := strings.ToLower(rekorutil.PrefixSHA(h)); err != nil || got != want {
			t.Errorf("HashIndexKey(%q) = %q, %v; Rekor's search key is %q", h, got, err, want)
		}
	}
	dir := t.TempDir()
	keys := opensslKeys(t, dir)
	sshKey := filepath.Join(dir, "id_ed25519")
	tool(t, nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", sshKey)
	for format, content := range map[string][]byte{
		"x509": readFile(t, keys["ecdsa-p256"].cert),
		"ssh":  readFile(t, sshKey+".pub"),
		// made by minisign -G and gpg --export (one user ID) for the product's unit tests
		"minisign": readFile(t, "../../pkg/tlog/rekortypes/testdata/minisign.pub"),
		"pgp":      readFile(t, "../../pkg/tlog/rekortypes/testdata/pgp.pub.asc"),
	} {
		af, err := rekorpki.NewArtifactFactory(rekorpki.Format(format))
		if err != nil {
			t.Fatal(err)
		}
		k, err := af.NewPublicKey(bytes.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		canon, err := k.CanonicalValue()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(canon)
		got, err := ourtypes.PublicKeyIndexKey(format, content)
		if want := hex.EncodeToString(sum[:]); err != nil || got != want {
			t.Errorf("PublicKeyIndexKey(%s) = %q, %v; Rekor's search key is %q", format, got, err, want)
		}
	}
}
