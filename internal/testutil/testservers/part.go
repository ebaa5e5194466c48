package testservers

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/root"
)

// discardLogger is the logger of the servers started here: their logs would only add noise to
// a test's.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// readPart returns the trusted-root part a server's Init wrote as file in dir.
func readPart(tb testing.TB, dir, file string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// TrustedRoot merges trusted-root parts (such as the TrustedRootPart of the servers started
// here) into one trusted root and parses it.
func TrustedRoot(tb testing.TB, parts ...[]byte) *root.TrustedRoot {
	tb.Helper()
	merged, err := root.MergeTrustedRoots(parts...)
	if err != nil {
		tb.Fatal(err)
	}
	tr, err := root.ParseTrustedRoot(merged)
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}
