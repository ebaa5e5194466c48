package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil/testservers"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/tuf"
)

// runTUFCLI runs the command line in-process and returns stdout and stderr.
func runTUFCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCmd()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetIn(strings.NewReader(""))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return stdout.String(), stderr.String(), err
}

// mustRunTUFCLI runs the command line and fails the test on error.
func mustRunTUFCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := runTUFCLI(t, args...)
	if err != nil {
		t.Fatalf("%v: %v\nstdout: %s\nstderr: %s", args, err, out, stderr)
	}
	return out
}

// writeTUFFile writes a file in dir and returns its path.
func writeTUFFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTUFCommandsAndInitialize(t *testing.T) {
	work := t.TempDir()
	t.Setenv("COSIGN_LIKE_HOME", filepath.Join(work, "home"))
	repo := filepath.Join(work, "repo")
	out := mustRunTUFCLI(t, "tuf", "init", "--dir", repo, "--threshold", "root=2", "--expiry", "timestamp=48h", "--key-type", "ecdsa-p256")
	if !strings.Contains(out, "TUF repository created in "+repo) || !strings.Contains(out, "published") || !strings.Contains(out, "initial root for clients: "+filepath.Join(repo, "repository", "1.root.json")+" (sha256 ") {
		t.Fatalf("tuf init printed %q", out)
	}
	tr := writeTUFFile(t, work, "trusted_root.json", `{"mediaType":"application/vnd.dev.sigstore.trustedroot.v0.2+json"}`)
	sc := writeTUFFile(t, work, "sc.json", `{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json"}`)
	mustRunTUFCLI(t, "tuf", "add-target", "--dir", repo, "--file", tr)
	out = mustRunTUFCLI(t, "tuf", "add-target", "--dir", repo, "--name", tuf.SigningConfigTarget, "--file", sc)
	if !strings.Contains(out, "target signing_config.v0.2.json staged") {
		t.Fatalf("tuf add-target printed %q", out)
	}
	out = mustRunTUFCLI(t, "tuf", "status", "--dir", repo)
	for _, want := range []string{"root      version 1", "signatures 2 of 2 needed", "targets   version 3", "timestamp version 3", "(in keys/)", "target trusted_root.json: 66 bytes"} {
		if !strings.Contains(out, want) {
			t.Fatalf("tuf status lacks %q:\n%s", want, out)
		}
	}

	mirror := testservers.StartTUF(t, repo)
	root1 := filepath.Join(repo, "repository", "1.root.json")
	sum := sha256.Sum256(mustReadTUF(t, root1))
	_, _, err := runTUFCLI(t, "initialize", "--mirror", mirror.URL, "--root", mirror.URL+"/1.root.json", "--root-checksum", strings.Repeat("0", 64))
	if err == nil || !strings.Contains(err.Error(), "root checksum mismatch") {
		t.Fatalf("initialize with a root URL and a wrong checksum: %v", err)
	}
	mustRunTUFCLI(t, "initialize", "--mirror", mirror.URL, "--root", mirror.URL+"/1.root.json", "--root-checksum", hex.EncodeToString(sum[:]))
	out = mustRunTUFCLI(t, "initialize", "--mirror", mirror.URL, "--root", root1)
	if !strings.Contains(out, "TUF cache initialized for "+mirror.URL) || !strings.Contains(out, "trusted_root.json: 66 bytes, sha256 ") {
		t.Fatalf("initialize printed %q", out)
	}
	if _, err := os.Stat(filepath.Join(work, "home", "tuf", "remote.json")); err != nil {
		t.Fatalf("initialize did not use $COSIGN_LIKE_HOME: %v", err)
	}

	// Rotate the root and the timestamp keys, re-sign, refresh: the cached client follows.
	mustRunTUFCLI(t, "tuf", "rotate", "--dir", repo, "--role", "root", "--keys", "3")
	mustRunTUFCLI(t, "tuf", "rotate", "--dir", repo, "--role", "timestamp")
	mustRunTUFCLI(t, "tuf", "sign", "--dir", repo, "--role", "targets", "--bump")
	out = mustRunTUFCLI(t, "tuf", "timestamp", "--dir", repo, "--expiry", "72h")
	if !strings.Contains(out, "timestamp refreshed") {
		t.Fatalf("tuf timestamp printed %q", out)
	}
	out = mustRunTUFCLI(t, "tuf", "status", "--dir", repo)
	if !strings.Contains(out, "root      version 3, ") || !strings.Contains(out, "signatures 3 of 2 needed (previous root: 3 of 2)") {
		t.Fatalf("tuf status after rotations:\n%s", out)
	}
	// Commands find the cache through $COSIGN_LIKE_HOME and the mirror initialize recorded.
	m, err := tuf.Load(context.Background(), tuf.LoadOptions{})
	if err != nil || m.TrustedRoot == nil || m.SigningConfig == nil {
		t.Fatalf("tuf.Load online: %+v %v", m, err)
	}
	if err := mirror.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := tuf.Load(context.Background(), tuf.LoadOptions{Offline: true}); err != nil {
		t.Fatalf("tuf.Load offline: %v", err)
	}
	out = mustRunTUFCLI(t, "tuf", "remove-target", "--dir", repo, "--name", tuf.SigningConfigTarget, "--no-publish")
	if !strings.Contains(out, "not published: --no-publish") {
		t.Fatalf("tuf remove-target --no-publish printed %q", out)
	}
	mustRunTUFCLI(t, "tuf", "publish", "--dir", repo)
}

func TestTUFCommandErrors(t *testing.T) {
	work := t.TempDir()
	t.Setenv("COSIGN_LIKE_HOME", filepath.Join(work, "home"))
	t.Setenv(envTUFMirror, "")
	repo := filepath.Join(work, "repo")
	mustRunTUFCLI(t, "tuf", "init", "--dir", repo)
	root := filepath.Join(repo, "repository", "1.root.json")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"tuf", "init"}, "--dir is required"},
		{[]string{"tuf", "init", "--dir", repo}, "TUF repository already exists"},
		{[]string{"tuf", "init", "--dir", filepath.Join(work, "a"), "--threshold", "mirror=2"}, `--threshold: unknown role "mirror"`},
		{[]string{"tuf", "init", "--dir", filepath.Join(work, "b"), "--threshold", "0"}, `--threshold: "0" is not a number from 1 to 16`},
		{[]string{"tuf", "init", "--dir", filepath.Join(work, "c"), "--keys", "root=x"}, `--keys: "x" is not a number`},
		{[]string{"tuf", "init", "--dir", filepath.Join(work, "d"), "--expiry", "timestamp=-1h"}, "--expiry: \"-1h\" is not a positive duration"},
		{[]string{"tuf", "init", "--dir", filepath.Join(work, "e"), "--role-key", "root"}, "want ROLE=KEYREF"},
		{[]string{"tuf", "init", "--dir", filepath.Join(work, "f"), "--key-type", "rsa"}, `unsupported TUF key: key type "rsa"`},
		{[]string{"tuf", "add-target", "--dir", repo}, "--file is required"},
		{[]string{"tuf", "add-target", "--dir", repo, "--file", filepath.Join(work, "missing.json")}, "no such file"},
		{[]string{"tuf", "add-target", "--dir", repo, "--name", "../x", "--file", root}, "bad target name"},
		{[]string{"tuf", "add-target", "--dir", work, "--file", root}, "not a TUF repository"},
		{[]string{"tuf", "remove-target", "--dir", repo, "--name", "nope"}, "TUF target not found"},
		{[]string{"tuf", "sign", "--dir", repo, "--role", "nobody"}, `unknown role "nobody"`},
		{[]string{"tuf", "sign", "--dir", repo, "--role", "root", "--key", filepath.Join(work, "missing.key")}, "loading key"},
		{[]string{"tuf", "rotate", "--dir", repo, "--role", "targets", "--threshold", "3"}, "threshold 3 for targets with 1 new keys"},
		{[]string{"tuf", "timestamp", "--dir", repo, "--expiry", "-1h"}, "expiry of timestamp is -1h0m0s"},
		{[]string{"tuf", "serve", "--dir", work}, "nothing published"},
		{[]string{"initialize", "--root", root}, "--mirror is required"},
		{[]string{"initialize", "--mirror", "http://127.0.0.1:1"}, "--root is required"},
		{[]string{"initialize", "--mirror", "http://127.0.0.1:1", "--root", root, "--root-checksum", strings.Repeat("0", 64)}, "root checksum mismatch"},
		{[]string{"initialize", "--mirror", "http://127.0.0.1:1", "--root", root}, "connection refused"},
		{[]string{"initialize", "--mirror", "file:///tmp", "--root", root}, "scheme must be http or https"},
		{[]string{"initialize", "--mirror", "http://127.0.0.1:1", "--root", "http://127.0.0.1:1/1.root.json"}, "needs its checksum"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runTUFCLI(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestTUFThresholdWithPKCS11Key keeps one of two targets keys on a SoftHSM token.
func TestTUFThresholdWithPKCS11Key(t *testing.T) {
	newCLISoftHSM(t)
	uri := "pkcs11:token=signing;object=tuf-targets?module-path=" + cliSoftHSMModule + "&pin-value=1234"
	if _, err := signer.CreateKey(context.Background(), uri, "ecdsa-p256"); err != nil {
		t.Fatalf("creating the token key: %v", err)
	}
	work := t.TempDir()
	repo := filepath.Join(work, "repo")
	mustRunTUFCLI(t, "tuf", "init", "--dir", repo, "--threshold", "targets=2", "--role-key", "targets="+uri)
	f := writeTUFFile(t, work, "trusted_root.json", "{}")
	out := mustRunTUFCLI(t, "tuf", "add-target", "--dir", repo, "--file", f)
	if !strings.Contains(out, "not published yet") || !strings.Contains(out, "not enough signatures, got 1, want 2") {
		t.Fatalf("add-target without the token key printed %q", out)
	}
	out = mustRunTUFCLI(t, "tuf", "sign", "--dir", repo, "--role", "targets", "--key", uri)
	if !strings.Contains(out, "published") || strings.Contains(out, "not published") {
		t.Fatalf("sign with the token key printed %q", out)
	}
	out = mustRunTUFCLI(t, "tuf", "status", "--dir", repo)
	if !strings.Contains(out, "targets   version 2, ") || !strings.Contains(out, "signatures 2 of 2 needed") || !strings.Contains(out, "(held elsewhere)") {
		t.Fatalf("tuf status:\n%s", out)
	}
	mirror := testservers.StartTUF(t, repo)
	mustRunTUFCLI(t, "initialize", "--mirror", mirror.URL, "--root", filepath.Join(repo, "repository", "root.json"), "--cache-dir", filepath.Join(work, "cache"))
}

func FuzzParseRoleSpec(f *testing.F) {
	for _, s := range []string{"", "2", "root=2", "2,root=3", "root=2,targets=1,snapshot=1,timestamp=1", "mirror=2", "root=", "=3", "root=2=3", " root = 2 ", "168h", "timestamp=24h,root=-1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ints, err := parseRoleInts("--threshold", spec)
		if err == nil {
			for role, n := range ints {
				if !slices.Contains(tuf.Roles(), role) || n < 1 || n > 16 {
					t.Fatalf("%q gave %s=%d", spec, role, n)
				}
			}
		}
		durs, err := parseRoleDurations("--expiry", spec)
		if err == nil {
			for role, d := range durs {
				if !slices.Contains(tuf.Roles(), role) || d <= 0 {
					t.Fatalf("%q gave %s=%s", spec, role, d)
				}
			}
		}
	})
}

func TestTUFServe(t *testing.T) {
	work := t.TempDir()
	repo := filepath.Join(work, "repo")
	mustRunTUFCLI(t, "tuf", "init", "--dir", repo)
	mustRunTUFCLI(t, "tuf", "add-target", "--dir", repo, "--file", writeTUFFile(t, work, "trusted_root.json", `{"served":true}`))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	root := newRootCmd()
	root.SetOut(pw)
	root.SetErr(io.Discard)
	root.SetArgs([]string{"tuf", "serve", "--dir", repo, "--addr", "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the announcement: %v", err)
	}
	go io.Copy(io.Discard, pr)
	_, url, ok := strings.Cut(strings.TrimSpace(line), " listening on ")
	if !ok {
		t.Fatalf("announcement %q", line)
	}
	trusted, _, err := tuf.Initialize(ctx, tuf.InitOptions{Mirror: url, Root: mustReadTUF(t, filepath.Join(repo, "repository", "root.json")), CacheDir: filepath.Join(work, "cache")})
	if err != nil || string(trusted) != `{"served":true}` {
		t.Fatalf("Initialize against tuf serve: %q %v", trusted, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("tuf serve: %v", err)
	}
}

// mustReadTUF reads a file or fails the test.
func mustReadTUF(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
