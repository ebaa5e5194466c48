package integration

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// devUp starts the local stack with `dev up --detach` and returns the environment it printed.
func devUp(t *testing.T, c *cli) map[string]string {
	t.Helper()
	dir := t.TempDir()
	r := c.ok("dev", "up", "--detach", "--dir", dir)
	t.Cleanup(func() { c.run("dev", "down", "--dir", dir) })
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if ok {
			env[k] = strings.Trim(v, "'")
			c.env = append(c.env, k+"="+env[k])
		}
	}
	for _, k := range []string{"COSIGN_LIKE_REGISTRY", "COSIGN_LIKE_TRUSTED_ROOT", "COSIGN_LIKE_SIGNING_CONFIG", "COSIGN_LIKE_OIDC_ISSUER"} {
		if env[k] == "" {
			t.Fatalf("dev up printed no %s:\n%s", k, r.stdout)
		}
	}
	return env
}

func TestKeylessFlowOnDevStack(t *testing.T) {
	c := newCLI(t)
	env := devUp(t, c)
	issuer := env["COSIGN_LIKE_OIDC_ISSUER"]
	img := strings.TrimSpace(c.ok("dev", "push-sample", env["COSIGN_LIKE_REGISTRY"]+"/it/keyless:v1").stdout)
	token := strings.TrimSpace(c.ok("dev", "token", "--email", "alice@example.com").stdout)

	c.ok("sign", "-y", "--identity-token", token, img)
	vs := parseVerifiedIdentity(t, c.ok("verify", "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer, img))
	if len(vs) != 1 || vs[0].Identity != "alice@example.com" || vs[0].Issuer != issuer {
		t.Fatalf("verified %+v", vs)
	}
	c.ok("verify", "--certificate-identity-regexp", `.*@example\.com`, "--certificate-oidc-issuer", issuer, img)

	c.fails("identity mismatch: want identity bob@example.com, certificate has alice@example.com",
		"verify", "--certificate-identity", "bob@example.com", "--certificate-oidc-issuer", issuer, img)
	c.fails("identity", "verify", "--certificate-identity-regexp", `lice@example\.com`, "--certificate-oidc-issuer", issuer, img)
	c.fails("issuer", "verify", "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", "https://accounts.example.com", img)
	c.fails("give exactly one", "verify", "--certificate-identity", "alice@example.com", img)
	c.fails("exclude each other", "verify", "--key", "cosign.pub", "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer, img)

	writeFile(t, c.dir, "blob.txt", "keyless blob\n")
	c.ok("sign-blob", "-y", "--identity-token", token, "--bundle", "blob.sigstore.json", "blob.txt")
	c.ok("verify-blob", "--bundle", "blob.sigstore.json", "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer, "blob.txt")

	// The sigstore-conformance client protocol, with the artifact as a file and as a digest.
	c.ok("sign-bundle", "--identity-token", token, "--bundle", "conf.sigstore.json", "blob.txt")
	sum := sha256.Sum256([]byte("keyless blob\n"))
	for _, artifact := range []string{"blob.txt", "sha256:" + hex.EncodeToString(sum[:])} {
		c.ok("verify-bundle", "--bundle", "conf.sigstore.json", "--certificate-identity", "alice@example.com",
			"--certificate-oidc-issuer", issuer, "--trusted-root", env["COSIGN_LIKE_TRUSTED_ROOT"], artifact)
	}
}

func TestKeyedWithLogOnDevStack(t *testing.T) {
	c := newCLI(t)
	env := devUp(t, c)
	img := strings.TrimSpace(c.ok("dev", "push-sample", env["COSIGN_LIKE_REGISTRY"]+"/it/keyedlog:v1").stdout)
	c.ok("generate-key-pair")
	c.ok("sign", "--key", "cosign.key", img)
	vs := parseVerified(t, c.ok("verify", "--key", "cosign.pub", img))
	if len(vs) != 1 {
		t.Fatalf("verified %+v", vs)
	}
	c.fails("legacy layout", "sign", "--key", "cosign.key", "--new-bundle-format=false", img)
}

type verifiedIdentity struct {
	Identity  string  `json:"identity"`
	Issuer    string  `json:"issuer"`
	TlogIndex []int64 `json:"tlogIndex"`
}

func parseVerifiedIdentity(t *testing.T, r result) []verifiedIdentity {
	t.Helper()
	var out []verifiedIdentity
	if err := jsonUnmarshal(r.stdout, &out); err != nil {
		t.Fatalf("verify output is not JSON: %v\n%s", err, r.stdout)
	}
	return out
}

// TestTrustFromTUF: after `initialize` against the stack's TUF repository, signing and
// verifying need neither --trusted-root nor --signing-config, online or --offline.
func TestTrustFromTUF(t *testing.T) {
	c := newCLI(t)
	env := devUp(t, c)
	img := strings.TrimSpace(c.ok("dev", "push-sample", env["COSIGN_LIKE_REGISTRY"]+"/it/tuf:v1").stdout)
	token := strings.TrimSpace(c.ok("dev", "token", "--email", "alice@example.com").stdout)
	issuer := env["COSIGN_LIKE_OIDC_ISSUER"]

	// Without the trust files in the environment and without a TUF cache, nothing verifies.
	bare := &cli{t: t, dir: c.dir, env: []string{"HOME=" + t.TempDir(), "COSIGN_LIKE_TRUSTED_ROOT=", "COSIGN_LIKE_SIGNING_CONFIG="}}
	bare.fails("no trusted root", "verify", "--offline", "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer, img)

	bare.ok("initialize", "--mirror", env["COSIGN_LIKE_TUF_MIRROR"], "--root", env["COSIGN_LIKE_TUF_ROOT"])
	bare.ok("sign", "-y", "--identity-token", token, img)
	bare.ok("verify", "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer, img)
	bare.ok("verify", "--offline", "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer, img)
}

// TestAirGappedVerify: an image saved with its signature verifies from the directory alone,
// after the registry and every server are gone.
func TestAirGappedVerify(t *testing.T) {
	c := newCLI(t)
	env := devUp(t, c)
	img := strings.TrimSpace(c.ok("dev", "push-sample", env["COSIGN_LIKE_REGISTRY"]+"/it/airgap:v1").stdout)
	token := strings.TrimSpace(c.ok("dev", "token", "--email", "alice@example.com").stdout)
	c.ok("sign", "-y", "--identity-token", token, img)
	c.ok("save", "--dir", "layout", img)
	c.ok("dev", "down", "--dir", env["COSIGN_LIKE_TRUSTED_ROOT"][:strings.LastIndex(env["COSIGN_LIKE_TRUSTED_ROOT"], "/")])
	issuer := env["COSIGN_LIKE_OIDC_ISSUER"]
	c.ok("verify", "--local-image", "--offline", "--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer, "layout")
	c.fails("identity mismatch", "verify", "--local-image", "--offline", "--certificate-identity", "bob@example.com", "--certificate-oidc-issuer", issuer, "layout")
}
