package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
)

func attestTestdata(name string) string {
	return filepath.Join("..", "..", "testdata", "attest", name)
}

// keyPair writes an encrypted key pair under dir and sets its password for the test.
func keyPair(t *testing.T, dir string) (string, string) {
	t.Helper()
	t.Setenv(passwordEnv, "attest-pass")
	prefix := filepath.Join(dir, "release")
	if _, stderr, err := runKeysCmd(t, "generate-key-pair", "--output-key-prefix", prefix); err != nil {
		t.Fatalf("generate-key-pair: %v\n%s", err, stderr)
	}
	return prefix + ".key", prefix + ".pub"
}

func mustRun(t *testing.T, args ...string) (string, string) {
	t.Helper()
	stdout, stderr, err := runKeysCmd(t, args...)
	if err != nil {
		t.Fatalf("%s: %v\nstderr: %s", strings.Join(args, " "), err, stderr)
	}
	return stdout, stderr
}

func mustFail(t *testing.T, want string, args ...string) {
	t.Helper()
	_, stderr, err := runKeysCmd(t, args...)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: error %v, want %q\nstderr: %s", strings.Join(args, " "), err, want, stderr)
	}
}

func TestAttestCLI(t *testing.T) {
	dir := t.TempDir()
	key, pub := keyPair(t, dir)
	host, _ := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "cli/app").String()

	mustRun(t, "attest", "--key", key, "--tlog-upload=false", "--type", "spdxjson", "--predicate", attestTestdata("sbom.spdx.json"), img)
	mustRun(t, "attest", "--key", key, "--tlog-upload=false", "--type", "slsaprovenance1", "--predicate", attestTestdata("provenance.slsa1.json"), "--new-bundle-format=false", img)

	verifyArgs := []string{"verify-attestation", "--key", pub, "--insecure-ignore-tlog"}
	stdout, _ := mustRun(t, append(verifyArgs, "--type", "spdxjson", "--policy", attestTestdata("policy-spdx.rego"), img)...)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 1 {
		t.Fatalf("json output %q: want one envelope line", stdout)
	}
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			Sig string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &env); err != nil || env.PayloadType != "application/vnd.in-toto+json" || len(env.Signatures) != 1 {
		t.Fatalf("envelope line %s (%v)", lines[0], err)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil || !bytes.Contains(payload, []byte(`"predicateType":"https://spdx.dev/Document"`)) {
		t.Fatalf("payload %s (%v)", payload, err)
	}
	stdout, _ = mustRun(t, append(verifyArgs, "--type", "slsaprovenance1", "--policy", attestTestdata("policy-cosign-v0.rego"), "-o", "text", img)...)
	if !strings.Contains(stdout, "Verified https://slsa.dev/provenance/v1 attestation of") || !strings.Contains(stdout, "(legacy layout)") {
		t.Fatalf("text output %q", stdout)
	}

	mustFail(t, "data.signature.deny: package musl 1.2.5-r0 is forbidden", append(verifyArgs, "--type", "spdxjson", "--policy", attestTestdata("policy-forbid-musl.rego"), img)...)
	mustFail(t, "no attestation of predicate type https://cyclonedx.org/bom", append(verifyArgs, "--type", "cyclonedx", img)...)
	mustFail(t, "unknown predicate type \"spdxjosn\"", append(verifyArgs, "--type", "spdxjosn", img)...)
	mustFail(t, "the limit is 1000 (--max-attestation-size)", append(verifyArgs, "--type", "spdxjson", "--max-attestation-size", "1000", img)...)
	mustFail(t, "is this an SPDX JSON document", "attest", "--key", key, "--tlog-upload=false", "--type", "spdxjson", "--predicate", attestTestdata("sbom.cdx.json"), img)
	mustFail(t, "larger than the limit of 100 bytes (raise it with --max-attestation-size)", "attest", "--key", key, "--tlog-upload=false", "--type", "spdxjson", "--max-attestation-size", "100", "--predicate", attestTestdata("sbom.spdx.json"), img)
	mustFail(t, "give exactly one of --predicate and --statement", "attest", "--key", key, "--tlog-upload=false", img)
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mustFail(t, "the https://cyclonedx.org/bom predicate is not a JSON object", "attest", "--key", key, "--tlog-upload=false", "--type", "cyclonedx", "--predicate", empty, img)

	// --statement: a ready statement is signed as it is when its subject is this image.
	digestHex := img[strings.LastIndex(img, ":")+1:]
	statement := func(hexDigest string) string {
		path := filepath.Join(dir, hexDigest[:8]+".statement.json")
		st := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app","digest":{"sha256":"` + hexDigest +
			`"}}],"predicateType":"https://example.com/release/v1","predicate":{"approved":true}}`
		if err := os.WriteFile(path, []byte(st), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	mustFail(t, "statement subject does not match", "attest", "--key", key, "--tlog-upload=false", "--statement", statement(strings.Repeat("0", 64)), img)
	mustRun(t, "attest", "--key", key, "--tlog-upload=false", "--statement", statement(digestHex), img)
	mustRun(t, append(verifyArgs, "--type", "https://example.com/release/v1", img)...)
	// A .cue policy is CUE: the statement must unify with it.
	mustRun(t, append(verifyArgs, "--type", "spdxjson", "--policy", attestTestdata("policy-spdx.cue"), "--policy", attestTestdata("policy-spdx.rego"), img)...)
	mustFail(t, `policy-forbid-musl.cue: predicate.packages.2.name: invalid value "musl" (out of bound !="musl")`, append(verifyArgs, "--type", "spdxjson", "--policy", attestTestdata("policy-forbid-musl.cue"), img)...)
	mustFail(t, `policy-spdx.cue: predicateType: conflicting values "https://slsa.dev/provenance/v1" and "https://spdx.dev/Document"`, append(verifyArgs, "--type", "slsaprovenance1", "--policy", attestTestdata("policy-spdx.cue"), img)...)
	malformed := filepath.Join(dir, "p.cue")
	if err := os.WriteFile(malformed, []byte("predicate: {spdxVersion: \"SPDX-2.3\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustFail(t, "invalid policy: p.cue: expected '}', found 'EOF' (p.cue:", append(verifyArgs, "--type", "spdxjson", "--policy", malformed, img)...)

	// download attestation, filtered by predicate type.
	var out bytes.Buffer
	dl := newDownloadAttestationCmd()
	dl.SetOut(&out)
	dl.SetArgs([]string{"--predicate-type", "slsaprovenance1", img})
	if err := dl.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	n := 0
	for sc.Scan() {
		n++
		var env struct{ PayloadType, Payload string }
		if err := json.Unmarshal(sc.Bytes(), &env); err != nil || env.PayloadType != "application/vnd.in-toto+json" {
			t.Fatalf("download line %s (%v)", sc.Text(), err)
		}
		payload, err := base64.StdEncoding.DecodeString(env.Payload)
		if err != nil || !bytes.Contains(payload, []byte(`"predicateType":"https://slsa.dev/provenance/v1"`)) {
			t.Fatalf("downloaded payload %s (%v)", payload, err)
		}
	}
	if n != 1 {
		t.Fatalf("downloaded %d attestations, want 1", n)
	}
	out.Reset()
	dl = newDownloadAttestationCmd()
	dl.SetOut(&out)
	dl.SetArgs([]string{"--predicate-type", "spdxjson", img})
	if err := dl.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	var b struct {
		MediaType    string `json:"mediaType"`
		DsseEnvelope struct {
			PayloadType string `json:"payloadType"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(out.Bytes(), &b); err != nil || b.MediaType != "application/vnd.dev.sigstore.bundle.v0.3+json" || b.DsseEnvelope.PayloadType != "application/vnd.in-toto+json" {
		t.Fatalf("downloaded bundle %s (%v)", out.Bytes(), err)
	}
	dl = newDownloadAttestationCmd()
	dl.SetOut(&out)
	dl.SetArgs([]string{"--predicate-type", "openvex", img})
	if err := dl.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), "no attestation of predicate type https://openvex.dev/ns") {
		t.Fatalf("download of an absent type: %v", err)
	}
}

func TestAttestBlobCLI(t *testing.T) {
	dir := t.TempDir()
	key, pub := keyPair(t, dir)
	blob := filepath.Join(dir, "app.tar.gz")
	if err := os.WriteFile(blob, []byte("release bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	bundlePath := filepath.Join(dir, "app.att.sigstore.json")
	mustRun(t, "attest-blob", "--key", key, "--tlog-upload=false", "--type", "cyclonedx", "--predicate", attestTestdata("sbom.cdx.json"), "--bundle", bundlePath, blob)
	_, stderr := mustRun(t, "verify-blob-attestation", "--key", pub, "--insecure-ignore-tlog", "--type", "cyclonedx", "--bundle", bundlePath, blob)
	if !strings.Contains(stderr, "Verified OK: https://cyclonedx.org/bom attestation of") {
		t.Fatalf("stderr %q", stderr)
	}
	mustFail(t, "not https://spdx.dev/Document", "verify-blob-attestation", "--key", pub, "--insecure-ignore-tlog", "--type", "spdxjson", "--bundle", bundlePath, blob)
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, []byte("other bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustFail(t, "artifact does not match", "verify-blob-attestation", "--key", pub, "--insecure-ignore-tlog", "--type", "cyclonedx", "--bundle", bundlePath, other)
	mustFail(t, "--bundle is required", "attest-blob", "--key", key, "--tlog-upload=false", "--type", "cyclonedx", "--predicate", attestTestdata("sbom.cdx.json"), blob)
}

func TestCopySaveLoadCLI(t *testing.T) {
	dir := t.TempDir()
	key, pub := keyPair(t, dir)
	src, _ := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, src, "cli/copy")
	mustRun(t, "sign", "--key", key, "--tlog-upload=false", img.String())
	mustRun(t, "attest", "--key", key, "--tlog-upload=false", "--type", "cyclonedx", "--predicate", attestTestdata("sbom.cdx.json"), "--new-bundle-format=false", img.String())
	mustRun(t, "attest", "--key", key, "--tlog-upload=false", "--type", "cyclonedx", "--predicate", attestTestdata("sbom.cdx.json"), img.String())

	dst := testutil.StartDistribution(t)
	stdout, stderr := mustRun(t, "copy", img.String(), dst+"/mirror/app:v1")
	if strings.TrimSpace(stdout) != dst+"/mirror/app@"+img.DigestStr() || !strings.Contains(stderr, "Copied") {
		t.Fatalf("copy printed %q / %q", stdout, stderr)
	}
	mustRun(t, "verify", "--key", pub, "--insecure-ignore-tlog", dst+"/mirror/app:v1")
	stdout, _ = mustRun(t, "verify-attestation", "--key", pub, "--insecure-ignore-tlog", "--type", "cyclonedx", "-o", "text", dst+"/mirror/app:v1")
	if strings.Count(stdout, "Verified https://cyclonedx.org/bom attestation") != 2 {
		t.Fatalf("attestations verified on the copy: %q", stdout)
	}

	layout := filepath.Join(dir, "airgap")
	mustRun(t, "save", "--dir", layout, dst+"/mirror/app:v1")
	stdout, _ = mustRun(t, "verify-attestation", "--key", pub, "--insecure-ignore-tlog", "--type", "cyclonedx", "--local-image", "-o", "text", layout)
	if strings.Count(stdout, "Verified https://cyclonedx.org/bom attestation") != 2 || !strings.Contains(stdout, img.DigestStr()) {
		t.Fatalf("attestations verified in the layout: %q", stdout)
	}
	back, _ := testutil.NewRegistry(t)
	mustRun(t, "load", "--dir", layout, back+"/loaded/app:v1")
	mustRun(t, "verify", "--key", pub, "--insecure-ignore-tlog", back+"/loaded/app:v1")
	mustRun(t, "verify-attestation", "--key", pub, "--insecure-ignore-tlog", "--type", "cyclonedx", back+"/loaded/app:v1")

	mustFail(t, "--dir is required", "save", img.String())
	mustFail(t, "reading the image layout", "verify-attestation", "--key", pub, "--insecure-ignore-tlog", "--type", "cyclonedx", "--local-image", t.TempDir())
}

// writeLargeSPDX writes an SPDX 2.3 JSON document of about size bytes (many packages).
func writeLargeSPDX(t *testing.T, path string, size int) {
	t.Helper()
	var b bytes.Buffer
	b.Grow(size + 4096)
	b.WriteString(`{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"large","documentNamespace":"https://example.com/spdx/large","creationInfo":{"created":"2026-01-15T10:00:00Z","creators":["Tool: cosign-like-test"]},"packages":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"pkg-%d","SPDXID":"SPDXRef-Package-%d","versionInfo":"1.%d.0","downloadLocation":"NOASSERTION","filesAnalyzed":false,"licenseConcluded":"MIT","copyrightText":"NOASSERTION"}`, i, i, i%1000)
	}
	b.WriteString(`]}`)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAttestLargeSBOMMemory runs the real binary to attest a 50 MiB SPDX document and checks its
// peak resident memory against the target: at most twice the SBOM, for both layouts.
func TestAttestLargeSBOMMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and attests a 50 MiB SBOM")
	}
	dir := t.TempDir()
	linked := filepath.Join(dir, "cosign-like.linked")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", linked, ".")
	build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Run an installed copy, as make bench does: the file the linker has just written is mapped
	// in 2 MiB folios, which adds resident file pages that an installed binary does not have.
	bin := filepath.Join(dir, "cosign-like")
	installCopy(t, linked, bin)
	key, _ := keyPair(t, dir)
	sbom := filepath.Join(dir, "sbom.spdx.json")
	const size = 50 << 20
	writeLargeSPDX(t, sbom, size)
	host, _ := testutil.NewRegistry(t)
	env := append(os.Environ(), passwordEnv+"=attest-pass")
	base := peakRSS(t, env, bin, "sign", "--key", key, "--tlog-upload=false", testutil.PushRandomImage(t, host, "cli/large").String())
	t.Logf("sign (for comparison): peak RSS %d MiB", base>>20)
	for _, run := range []struct{ newFormat, predicate string }{
		{"true", attestTestdata("sbom.spdx.json")},
		{"true", sbom},
		{"false", sbom},
	} {
		img := testutil.PushRandomImage(t, host, "cli/large")
		peak := peakRSS(t, env, bin, "attest", "--key", key, "--tlog-upload=false", "--type", "spdxjson", "--predicate", run.predicate, "--new-bundle-format="+run.newFormat, img.String())
		fi, err := os.Stat(run.predicate)
		if err != nil {
			t.Fatal(err)
		}
		extra := max(peak-base, 0) // what attest holds beyond sign's footprint
		t.Logf("attest of a %d-byte SBOM (--new-bundle-format=%s): peak RSS %d MiB (%.2fx the SBOM), %d MiB more than sign (%.2fx the SBOM)",
			fi.Size(), run.newFormat, peak>>20, float64(peak)/float64(fi.Size()), extra>>20, float64(extra)/float64(fi.Size()))
		if run.predicate == sbom && float64(peak) > 2*float64(fi.Size()) {
			t.Errorf("attest of a %d MiB SBOM (--new-bundle-format=%s) peaks at %d MiB, more than twice the SBOM", fi.Size()>>20, run.newFormat, peak>>20)
		}
	}
}

// peakRSS runs the command under GNU time and returns its peak resident memory in bytes. The
// rusage a Go parent reads of its own child is no use here: the child is started with
// CLONE_VM, and the kernel carries the parent's resident set into the child's high-water mark.
// time starts the command from a process of its own.
func peakRSS(t *testing.T, env []string, args ...string) int64 {
	t.Helper()
	const gnuTime = "/usr/bin/time"
	if _, err := os.Stat(gnuTime); err != nil {
		if testutil.RequireAll() {
			t.Fatalf("%s (Debian package time) is required: %v", gnuTime, err)
		}
		t.Skipf("%s (Debian package time) is not installed", gnuTime)
	}
	out := filepath.Join(t.TempDir(), "rss")
	cmd := exec.Command(gnuTime, append([]string{"-f", "%M", "-o", out}, args...)...)
	cmd.Env = env
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, o)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		t.Fatalf("GNU time wrote %q: %v", data, err)
	}
	return kib << 10
}

// installCopy copies the executable src to dst with ordinary writes.
func installCopy(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
