package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
)

// binary is the cosign-like binary built for this test run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cosign-like-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if binary, err = testutil.BuildBinary(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary produced.
type result struct {
	stdout, stderr string
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("err=%v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
}

// cli runs the binary in dir with the given extra environment.
type cli struct {
	t   *testing.T
	dir string
	env []string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	return &cli{t: t, dir: t.TempDir(), env: []string{"COSIGN_PASSWORD=integration-test", "HOME=" + t.TempDir()}}
}

// with returns a copy of c that reports to t (a subtest).
func (c *cli) with(t *testing.T) *cli {
	cc := *c
	cc.t = t
	return &cc
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), c.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return result{out.String(), errb.String(), err}
}

// ok runs the binary and fails the test unless it succeeds.
func (c *cli) ok(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.err != nil {
		c.t.Fatalf("cosign-like %s: %v", strings.Join(args, " "), r)
	}
	return r
}

// fails runs the binary and fails the test unless it exits non-zero with want in its error output.
func (c *cli) fails(want string, args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.err == nil {
		c.t.Fatalf("cosign-like %s succeeded, want failure with %q: %v", strings.Join(args, " "), want, r)
	}
	if !strings.Contains(r.stderr, want) {
		c.t.Fatalf("cosign-like %s: error output lacks %q: %v", strings.Join(args, " "), want, r)
	}
	return r
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
