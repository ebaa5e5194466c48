//go:build containers_image_openpgp

package interop

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	ciimage "go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	cisignature "go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/signature/signer"
	"go.podman.io/image/v5/signature/sigstore"
	"go.podman.io/image/v5/signature/sigstore/fulcio"
	"go.podman.io/image/v5/types"
)

const ciPassword = "interop"

// ciSystemContext is how a containers/image user (skopeo, podman) reaches the stack's registry:
// --tls-verify=false, which lets it fall back to plain HTTP, and a registries.d file that turns
// on sigstore attachments (the legacy .sig tags). Every other file it reads or writes on the host
// (registries.conf, auth.json, the blob info cache, the lookaside store) is private to the test.
func ciSystemContext(t *testing.T) *types.SystemContext {
	t.Helper()
	dir := t.TempDir()
	regd := filepath.Join(dir, "registries.d")
	if err := os.Mkdir(regd, 0o700); err != nil {
		t.Fatal(err)
	}
	writeCIFile(t, filepath.Join(regd, "sigstore.yaml"), "default-docker:\n  lookaside: file://"+filepath.Join(dir, "lookaside")+"\n  use-sigstore-attachments: true\n")
	conf := filepath.Join(dir, "registries.conf")
	writeCIFile(t, conf, "")
	return &types.SystemContext{
		DockerInsecureSkipTLSVerify: types.OptionalBoolTrue,
		RegistriesDirPath:           regd,
		SystemRegistriesConfPath:    conf,
		SystemRegistriesConfDirPath: filepath.Join(dir, "registries.conf.d"),
		AuthFilePath:                filepath.Join(dir, "auth.json"),
		BlobInfoCacheDir:            filepath.Join(dir, "cache"),
	}
}

func writeCIFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// ciPolicy is a containers/image policy whose default is the one requirement given.
func ciPolicy(t *testing.T, requirement map[string]any) *cisignature.PolicyContext {
	t.Helper()
	data, err := json.Marshal(map[string]any{"default": []any{requirement}})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := cisignature.NewPolicyFromBytes(data)
	if err != nil {
		t.Fatalf("containers/image refuses the policy %s: %v", data, err)
	}
	pc, err := cisignature.NewPolicyContext(policy)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Destroy() })
	return pc
}

// ciReference parses host:port/repo[:tag|@digest] as containers/image's docker:// transport.
func ciReference(t *testing.T, image string) types.ImageReference {
	t.Helper()
	ref, err := docker.ParseReference("//" + image)
	if err != nil {
		t.Fatalf("containers/image cannot parse %s: %v", image, err)
	}
	return ref
}

// ciAllowed evaluates the policy on image as podman does before it runs an image.
func ciAllowed(t *testing.T, sys *types.SystemContext, pc *cisignature.PolicyContext, image string) (bool, error) {
	t.Helper()
	ctx := context.Background()
	src, err := ciReference(t, image).NewImageSource(ctx, sys)
	if err != nil {
		t.Fatalf("containers/image cannot open %s: %v", image, err)
	}
	defer src.Close()
	return pc.IsRunningImageAllowed(ctx, ciimage.UnparsedInstance(src, nil))
}

// ciCopy copies src to dest with containers/image, signing with s, and returns the digest
// reference of what it wrote.
func ciCopy(t *testing.T, sys *types.SystemContext, src, dest string, s *signer.Signer) string {
	t.Helper()
	pc := ciPolicy(t, map[string]any{"type": "insecureAcceptAnything"})
	destRef := ciReference(t, dest)
	out, err := copy.Image(context.Background(), pc, destRef, ciReference(t, src), &copy.Options{
		Signers:        []*signer.Signer{s},
		SourceCtx:      sys,
		DestinationCtx: sys,
	})
	if err != nil {
		t.Fatalf("containers/image copy %s -> %s: %v", src, dest, err)
	}
	d, err := manifest.Digest(out)
	if err != nil {
		t.Fatal(err)
	}
	return destRef.DockerReference().Name() + "@" + d.String()
}

// caChain fetches the CA chain (PEM, intermediate first) from Fulcio's v1 rootCert endpoint.
func caChain(t *testing.T, ca *url.URL) []byte {
	t.Helper()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(ca.JoinPath("/api/v1/rootCert").String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/rootCert: %d %v\n%s", resp.StatusCode, err, body)
	}
	return body
}

// caRoots returns the self-signed certificates of the CA chain as PEM: the trust anchors a
// containers/image "pki" requirement takes.
func caRoots(t *testing.T, ca *url.URL) []byte {
	t.Helper()
	body := caChain(t, ca)
	var roots []byte
	for rest := body; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("rootCert: %v", err)
		}
		if c.CheckSignatureFrom(c) == nil {
			roots = append(roots, pem.EncodeToMemory(b)...)
		}
	}
	if roots == nil {
		t.Fatalf("rootCert holds no self-signed certificate:\n%s", body)
	}
	return roots
}

// sigstoreKeyRequirement is a sigstoreSigned requirement trusting one public key file.
func sigstoreKeyRequirement(keyPath string, identity map[string]any) map[string]any {
	r := map[string]any{"type": "sigstoreSigned", "keyPath": keyPath}
	if identity != nil {
		r["signedIdentity"] = identity
	}
	return r
}

// caURL is the CA of the stack, as its signing config names it.
func caURL(t *testing.T, st *devStack) *url.URL {
	t.Helper()
	data, err := os.ReadFile(st.env["COSIGN_LIKE_SIGNING_CONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	var sc struct {
		CAURLs []struct {
			URL string `json:"url"`
		} `json:"caUrls"`
	}
	if err := json.Unmarshal(data, &sc); err != nil || len(sc.CAURLs) == 0 {
		t.Fatalf("signing config names no CA (%v): %s", err, data)
	}
	u, err := url.Parse(sc.CAURLs[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestContainersImageVerifiesOurLegacySignatures: containers/image's sigstoreSigned policy (what
// podman, CRI-O and skopeo enforce) accepts an image signed by `cosign-like sign --key
// --new-bundle-format=false`, and refuses another key, another repository, an unsigned image and
// an image signed only in the bundle layout, which it does not read.
func TestContainersImageVerifiesOurLegacySignatures(t *testing.T) {
	st := startDevStack(t)
	keys := t.TempDir()
	env := st.environ("HOME="+t.TempDir(), "COSIGN_PASSWORD="+ciPassword)
	ours, other := filepath.Join(keys, "ours"), filepath.Join(keys, "other")
	run(t, env, ourBinary, "generate-key-pair", "--output-key-prefix", ours)
	run(t, env, ourBinary, "generate-key-pair", "--output-key-prefix", other)

	reg := st.env["COSIGN_LIKE_REGISTRY"]
	sample := func(repo string) string {
		return strings.TrimSpace(run(t, env, ourBinary, "dev", "push-sample", reg+"/interop/"+repo+":v1").stdout)
	}
	signed, unsigned, bundled := sample("ci-legacy"), sample("ci-unsigned"), sample("ci-bundle")
	run(t, env, ourBinary, "sign", "--key", ours+".key", "--new-bundle-format=false", "--tlog-upload=false", "-a", "env=prod", signed)
	run(t, env, ourBinary, "sign", "--key", ours+".key", "--tlog-upload=false", bundled)

	sys := ciSystemContext(t)
	for _, c := range []struct {
		name      string
		image     string
		key       string
		identity  map[string]any
		refusedBy string // empty: accepted
	}{
		{name: "our key, matchRepository", image: signed, key: ours, identity: map[string]any{"type": "matchRepository"}},
		{name: "our key, exactRepository", image: signed, key: ours, identity: map[string]any{"type": "exactRepository", "dockerRepository": reg + "/interop/ci-legacy"}},
		{name: "another repository", image: signed, key: ours, identity: map[string]any{"type": "exactRepository", "dockerRepository": reg + "/interop/elsewhere"},
			refusedBy: `Signature for identity "` + reg + `/interop/ci-legacy" is not accepted`},
		// Like cosign, we sign the repository name alone, so containers/image's default identity
		// rule (matchRepoDigestOrExact) wants a tag or digest that is not there: its documentation
		// tells cosign users to write matchRepository or exactRepository.
		{name: "default identity", image: signed, key: ours, refusedBy: `Signature for identity "` + reg + `/interop/ci-legacy" is not accepted`},
		{name: "another key", image: signed, key: other, refusedBy: "cryptographic signature verification failed"},
		{name: "unsigned", image: unsigned, key: ours, refusedBy: "A signature was required, but no signature exists"},
		{name: "bundle layout only", image: bundled, key: ours, refusedBy: "A signature was required, but no signature exists"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pc := ciPolicy(t, sigstoreKeyRequirement(c.key+".pub", c.identity))
			ok, err := ciAllowed(t, sys, pc, c.image)
			if c.refusedBy == "" {
				if !ok || err != nil {
					t.Fatalf("containers/image refuses %s signed by cosign-like: allowed=%v, %v", c.image, ok, err)
				}
				return
			}
			if ok || err == nil {
				t.Fatalf("containers/image accepts %s, want a refusal with %q", c.image, c.refusedBy)
			}
			if !strings.Contains(err.Error(), c.refusedBy) {
				t.Fatalf("containers/image refuses %s with %q, want %q", c.image, err, c.refusedBy)
			}
		})
	}
}

// TestContainersImageSignsThroughOurStack: containers/image signs while it copies an image into
// the stack's registry, with a key file written by `cosign-like generate-key-pair` (which
// `cosign-like verify --key` accepts, and refuses under another key) and keyless through our CA's
// Fulcio v1 API (which its pki requirement and cosign accept for the right email only).
func TestContainersImageSignsThroughOurStack(t *testing.T) {
	st := startDevStack(t)
	keys := t.TempDir()
	env := st.environ("HOME="+t.TempDir(), "COSIGN_PASSWORD="+ciPassword)
	reg := st.env["COSIGN_LIKE_REGISTRY"]
	src := strings.TrimSpace(run(t, env, ourBinary, "dev", "push-sample", reg+"/interop/ci-source:v1").stdout)
	sys := ciSystemContext(t)

	t.Run("keyed", func(t *testing.T) {
		ours, other := filepath.Join(keys, "ours"), filepath.Join(keys, "other")
		run(t, env, ourBinary, "generate-key-pair", "--output-key-prefix", ours)
		run(t, env, ourBinary, "generate-key-pair", "--output-key-prefix", other)
		s, err := sigstore.NewSigner(sigstore.WithPrivateKeyFile(ours+".key", []byte(ciPassword)))
		if err != nil {
			t.Fatalf("containers/image cannot open the key file cosign-like wrote: %v", err)
		}
		defer s.Close()
		if _, err := sigstore.NewSigner(sigstore.WithPrivateKeyFile(ours+".key", []byte("wrong"))); err == nil || !strings.Contains(err.Error(), "decrypt: encrypted: decryption failed") {
			t.Fatalf("containers/image with the wrong password for our key file: %v", err)
		}
		signed := ciCopy(t, sys, src, reg+"/interop/ci-keyed:v1", s)

		run(t, env, ourBinary, "verify", "--key", ours+".pub", "--insecure-ignore-tlog", signed)
		refuse(t, env, "signature does not verify under the ECDSA P-256 key", ourBinary, "verify", "--key", other+".pub", "--insecure-ignore-tlog", signed)
		ok, err := ciAllowed(t, sys, ciPolicy(t, sigstoreKeyRequirement(ours+".pub", nil)), signed)
		if !ok || err != nil {
			t.Fatalf("containers/image refuses its own signature: allowed=%v, %v", ok, err)
		}
	})

	t.Run("keyless", func(t *testing.T) {
		ca := caURL(t, st)
		issuer := st.env["COSIGN_LIKE_OIDC_ISSUER"]
		s, err := sigstore.NewSigner(fulcio.WithFulcioAndPreexistingOIDCIDToken(ca, st.token(t, "alice@example.com")))
		if err != nil {
			t.Fatalf("containers/image cannot get a certificate from our CA at %s: %v", ca, err)
		}
		defer s.Close()
		signed := ciCopy(t, sys, src, reg+"/interop/ci-keyless:v1", s)

		// containers/image's own keyless check without a log: the certificate chains to the CA
		// roots that our CA serves at /api/v1/rootCert, has the code-signing EKU and names the email.
		roots := filepath.Join(t.TempDir(), "roots.pem")
		writeCIFile(t, roots, string(caRoots(t, ca)))
		pki := func(email string) map[string]any {
			return map[string]any{"type": "sigstoreSigned", "pki": map[string]any{"caRootsPath": roots, "subjectEmail": email}, "signedIdentity": map[string]any{"type": "matchRepository"}}
		}
		if ok, err := ciAllowed(t, sys, ciPolicy(t, pki("alice@example.com")), signed); !ok || err != nil {
			t.Fatalf("containers/image refuses its keyless signature from our CA: allowed=%v, %v", ok, err)
		}
		if ok, err := ciAllowed(t, sys, ciPolicy(t, pki("bob@example.com")), signed); ok || err == nil || !strings.Contains(err.Error(), `Required email "bob@example.com" not found (got ["alice@example.com"])`) {
			t.Fatalf("containers/image, asked for bob@example.com: allowed=%v, %v", ok, err)
		}

		// The signature carries a certificate with an embedded SCT but neither a signed entry
		// timestamp nor an RFC 3161 timestamp: our verifier has no trusted signing time and
		// refuses it, also with --insecure-ignore-tlog (cosign checks the certificate against the
		// current time instead).
		refuse(t, env, "no verified signing time: a certificate needs an RFC 3161 timestamp or a Rekor v1 entry with a signed entry timestamp",
			ourBinary, "verify", "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer, "--insecure-ignore-tlog", signed)

		t.Run("cosign", func(t *testing.T) {
			cosign := peer(t, "cosign")
			args := []string{"verify", "--new-bundle-format=false", "--insecure-ignore-tlog", "--trusted-root", st.env["COSIGN_LIKE_TRUSTED_ROOT"], "--certificate-oidc-issuer", issuer}
			run(t, env, cosign, append(args, "--certificate-identity", "alice@example.com", signed)...)
			refuse(t, env, "none of the expected identities matched what was in the certificate, got subjects [alice@example.com]", cosign, append(args, "--certificate-identity", "bob@example.com", signed)...)
		})

		// A token for another audience: our CA answers as Fulcio does, 400 with Fulcio's message.
		wrongAudience := strings.TrimSpace(run(t, env, ourBinary, "dev", "token", "--email", "alice@example.com", "--audience", "elsewhere").stdout)
		_, err = sigstore.NewSigner(fulcio.WithFulcioAndPreexistingOIDCIDToken(ca, wrongAudience))
		if want := `/api/v1/signingCert returned 400 Bad Request: "{\"code\":3,\"message\":\"There was an error processing the identity token\"`; err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("containers/image with a token for another audience: %v, want an error with %s", err, want)
		}
	})
}
