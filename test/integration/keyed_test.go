package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
)

// registries returns the two real registries the flows run against: distribution 2.8 (no
// referrers API, so the tag schema is used) and go-containerregistry's (referrers API).
func registries(t *testing.T) map[string]string {
	t.Helper()
	inproc, _ := testutil.NewRegistry(t)
	return map[string]string{
		"distribution": testutil.StartDistribution(t),
		"ggcr":         inproc,
	}
}

type verified struct {
	Image       string            `json:"image"`
	Layout      string            `json:"layout"`
	Key         string            `json:"key"`
	Annotations map[string]string `json:"annotations"`
}

func parseVerified(t *testing.T, r result) []verified {
	t.Helper()
	var out []verified
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("verify output is not JSON: %v\n%s", err, r.stdout)
	}
	return out
}

func TestKeyedImageFlow(t *testing.T) {
	for regName, host := range registries(t) {
		t.Run(regName, func(t *testing.T) {
			c := newCLI(t)
			img := testutil.PushRandomImage(t, host, "it/app").String()
			c.ok("generate-key-pair")
			// A legacy signature alone verifies (images signed by cosign v2).
			c.ok("sign", "--key", "cosign.key", "--tlog-upload=false", "--new-bundle-format=false", "-a", "team=blue", img)
			vs := parseVerified(t, c.ok("verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "-a", "team=blue", img))
			if len(vs) != 1 || vs[0].Layout != "legacy" || vs[0].Image != img || vs[0].Annotations["team"] != "blue" {
				t.Fatalf("verified %+v, want the legacy signature of %s with team=blue", vs, img)
			}
			// With a bundle attached too, the bundle is what verifies (as cosign v3 prefers it).
			c.ok("sign", "--key", "cosign.key", "--tlog-upload=false", "-a", "team=blue", img)
			vs = parseVerified(t, c.ok("verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "-a", "team=blue", img))
			if len(vs) != 1 || vs[0].Layout != "bundle" || vs[0].Annotations["team"] != "blue" {
				t.Fatalf("verified %+v, want the bundle signature with team=blue", vs)
			}

			c.ok("verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "--output-file", "verified.json", img)
			if data, err := os.ReadFile(filepath.Join(c.dir, "verified.json")); err != nil || !strings.Contains(string(data), img) {
				t.Fatalf("--output-file: %v, content %q", err, data)
			}

			tree := c.ok("tree", img).stdout
			if !strings.Contains(tree, "Signatures (2)") || !strings.Contains(tree, ".sig") {
				t.Fatalf("tree output:\n%s", tree)
			}
			// As cosign v3 does, download prints the bundles and, with one attached, no legacy signature.
			lines := strings.Split(strings.TrimSpace(c.ok("download", "signature", img).stdout), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"`) {
				t.Fatalf("download printed %d lines, want the bundle alone:\n%s", len(lines), strings.Join(lines, "\n"))
			}

			c.fails("annotation team", "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "-a", "team=red", img)
			c.fails("no trusted root", "verify", "--key", "cosign.pub", img)

			c.ok("clean", "-f", "--type", "signature", img)
			c.fails("no signatures found", "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", img)
		})
	}
}

func TestWrongKeyFails(t *testing.T) {
	host, _ := testutil.NewRegistry(t)
	c := newCLI(t)
	img := testutil.PushRandomImage(t, host, "it/wrongkey").String()
	c.ok("generate-key-pair")
	c.ok("generate-key-pair", "--output-key-prefix", "other")
	c.ok("sign", "--key", "cosign.key", "--tlog-upload=false", img)
	c.fails("no valid signature", "verify", "--key", "other.pub", "--insecure-ignore-tlog", img)
}

func TestRecursiveSignsIndexChildren(t *testing.T) {
	host, _ := testutil.NewRegistry(t)
	c := newCLI(t)
	idx, children := testutil.PushRandomIndex(t, host, "it/multi", 2)
	c.ok("generate-key-pair")
	c.ok("sign", "--key", "cosign.key", "--tlog-upload=false", "--recursive", idx.String())
	for _, d := range children {
		c.ok("verify", "--key", "cosign.pub", "--insecure-ignore-tlog", d.String())
	}
}

func TestBlobFlow(t *testing.T) {
	c := newCLI(t)
	c.ok("generate-key-pair")
	writeFile(t, c.dir, "artifact.txt", "release artifact\n")
	c.ok("sign-blob", "--key", "cosign.key", "--tlog-upload=false", "--bundle", "a.sigstore.json", "artifact.txt")
	c.ok("verify-blob", "--key", "cosign.pub", "--insecure-ignore-tlog", "--bundle", "a.sigstore.json", "artifact.txt")
	writeFile(t, c.dir, "artifact.txt", "release artifact, changed\n")
	c.fails("verification failed", "verify-blob", "--key", "cosign.pub", "--insecure-ignore-tlog", "--bundle", "a.sigstore.json", "artifact.txt")
}

// TestConcurrentSignersTagSchema runs 20 sign processes at once on one image in a registry
// without the referrers API: every signature must end up attached.
func TestConcurrentSignersTagSchema(t *testing.T) {
	host := testutil.StartDistribution(t)
	c := newCLI(t)
	img := testutil.PushRandomImage(t, host, "it/concurrent").String()
	c.ok("generate-key-pair")
	const signers = 20
	var wg sync.WaitGroup
	errs := make(chan string, signers)
	for i := 0; i < signers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := c.run("sign", "--key", "cosign.key", "--tlog-upload=false", "-a", fmt.Sprintf("n=%d", i), img)
			if r.err != nil {
				errs <- r.String()
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("a signer failed: %s", e)
	}
	vs := parseVerified(t, c.ok("verify", "--key", "cosign.pub", "--insecure-ignore-tlog", img))
	seen := map[string]bool{}
	for _, v := range vs {
		seen[v.Annotations["n"]] = true
	}
	if len(seen) != signers {
		t.Fatalf("%d of %d concurrent signatures attached", len(seen), signers)
	}
}
