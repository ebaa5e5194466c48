package interop

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
)

// ourBinary is the cosign-like binary built for this test run from the checkout.
var ourBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cosign-like-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if ourBinary, err = testutil.BuildBinary(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireAll reports whether a missing peer fails the test instead of skipping it (CI).
func requireAll() bool { return testutil.RequireAll() }

// peerDir is where scripts/peers.sh builds the peer binaries and installs the npm peers.
func peerDir() string { return testutil.PeerDir() }

// peer returns the path of a peer program, built by scripts/peers.sh as <peerDir>/<name>, or
// skips the test (fails it in CI) when it is missing.
func peer(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(peerDir(), name)
	if _, err := os.Stat(p); err != nil {
		if requireAll() {
			t.Fatalf("peer %s is missing (run scripts/peers.sh): %v", p, err)
		}
		t.Skipf("peer %s is missing (run scripts/peers.sh)", p)
	}
	return p
}

// devStack is `cosign-like dev up --detach` run as a user runs it, with the environment it
// printed.
type devStack struct {
	dir string
	env map[string]string
}

// startDevStack starts the local stack in its own process and stops it when t ends.
func startDevStack(t *testing.T) *devStack {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ourBinary, "dev", "up", "--detach", "--dir", dir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("dev up: %v\n%s%s", err, out.String(), errb.String())
	}
	st := &devStack{dir: dir, env: map[string]string{}}
	t.Cleanup(func() {
		down := exec.Command(ourBinary, "dev", "down", "--dir", dir)
		if b, err := down.CombinedOutput(); err != nil {
			t.Errorf("dev down: %v\n%s", err, b)
		}
	})
	// The export lines are read by a shell, as a user's eval reads them.
	shell := exec.Command("sh", "-c", out.String()+"\nenv -0")
	shell.Env = []string{"PATH=" + os.Getenv("PATH")}
	exported, err := shell.Output()
	if err != nil {
		t.Fatalf("evaluating what dev up printed: %v\n%s", err, out.String())
	}
	for _, kv := range strings.Split(string(exported), "\x00") {
		if name, value, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, "COSIGN_LIKE_") {
			st.env[name] = value
		}
	}
	for _, name := range []string{"COSIGN_LIKE_REGISTRY", "COSIGN_LIKE_TRUSTED_ROOT", "COSIGN_LIKE_SIGNING_CONFIG", "COSIGN_LIKE_OIDC_ISSUER", "COSIGN_LIKE_TUF_MIRROR", "COSIGN_LIKE_TUF_ROOT"} {
		if st.env[name] == "" {
			t.Fatalf("dev up printed no %s:\n%s", name, out.String())
		}
	}
	return st
}

// token asks the stack's OIDC dev issuer for an identity token naming email.
func (s *devStack) token(t *testing.T, email string) string {
	t.Helper()
	return strings.TrimSpace(run(t, nil, ourBinary, "dev", "token", "--issuer", s.env["COSIGN_LIKE_OIDC_ISSUER"], "--email", email).stdout)
}

// environ is the process environment with the stack's variables and extra added.
func (s *devStack) environ(extra ...string) []string {
	env := os.Environ()
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	return append(env, extra...)
}

// startProcess runs a server program until t ends and waits up to 30 s for it to accept
// connections on addr; its output is shown when t fails.
func startProcess(t *testing.T, addr, prog string, args ...string) {
	t.Helper()
	cmd := exec.Command(prog, args...)
	out := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", filepath.Base(prog), err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(prog), out.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("%s exited: %s", filepath.Base(prog), out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not listening on %s after 30 s", filepath.Base(prog), addr)
		}
	}
}

// result is what one run of a program produced.
type result struct {
	stdout, stderr string
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("err=%v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
}

// execute runs a program with env (nil: this process's) and a bound on its time.
func execute(env []string, dir, prog string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env, cmd.Dir = env, dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return result{out.String(), errb.String(), err}
}

// run runs a program and fails the test unless it succeeds.
func run(t *testing.T, env []string, prog string, args ...string) result {
	t.Helper()
	r := execute(env, "", prog, args...)
	if r.err != nil {
		t.Fatalf("%s %s: %v", filepath.Base(prog), strings.Join(args, " "), r)
	}
	return r
}

// refuse runs a program and fails the test unless it exits non-zero with want in its output.
func refuse(t *testing.T, env []string, want, prog string, args ...string) result {
	t.Helper()
	r := execute(env, "", prog, args...)
	if r.err == nil {
		t.Fatalf("%s %s succeeded, want a failure with %q: %v", filepath.Base(prog), strings.Join(args, " "), want, r)
	}
	if !strings.Contains(r.stderr+r.stdout, want) {
		t.Fatalf("%s %s: output lacks %q: %v", filepath.Base(prog), strings.Join(args, " "), want, r)
	}
	return r
}
