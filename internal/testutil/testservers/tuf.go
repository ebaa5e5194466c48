package testservers

import (
	"context"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tuf"
)

// StartTUF serves the TUF repository published in dir (tuf.OpenServer) on 127.0.0.1 until
// Stop or the end of the test; its URL is the mirror URL.
func StartTUF(tb testing.TB, dir string) *testutil.Started[*tuf.Server] {
	tb.Helper()
	return testutil.StartServer(tb, func(string) (*tuf.Server, error) {
		return tuf.OpenServer(context.Background(), dir, tuf.ServerOptions{Logger: discardLogger()})
	})
}
