package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildBinary builds the cosign-like command into dir, as the tests that run the binary the way
// a user runs it need, and returns its path. The build's output goes to stderr.
func BuildBinary(dir string) (string, error) {
	bin := filepath.Join(dir, "cosign-like")
	build := exec.Command("go", "build", "-o", bin, "github.com/cosign-like/cosign-like/cmd/cosign-like")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building cosign-like: %w", err)
	}
	return bin, nil
}

// Binary builds the cosign-like command (BuildBinary) into a temporary directory of the test,
// for a test that starts its servers as a user does; the build cache makes builds after the
// first one a link. In -short mode the test is skipped.
func Binary(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: not building cosign-like")
	}
	bin, err := BuildBinary(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}
