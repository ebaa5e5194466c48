package testservers

import (
	"context"
	"crypto/x509"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tsa"
)

// TSA is a timestamp authority started by StartTSA.
type TSA struct {
	// URL is its timestamp endpoint, http://127.0.0.1:<port>/api/v1/timestamp.
	URL string
	// Chain is its certificate chain, TSA certificate first, root last.
	Chain []*x509.Certificate
	// Server is the TSA server.
	Server *tsa.Server
	// Dir is its state directory.
	Dir string
	// TrustedRootPart is the trusted root listing the TSA that its Init wrote.
	TrustedRootPart []byte
}

// StartTSA initialises a TSA for the timestamp URL it will be served at, opens it, and serves it
// on 127.0.0.1 until the test ends.
func StartTSA(tb testing.TB) *TSA {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	served := testutil.StartServer(tb, func(url string) (*tsa.Server, error) {
		if err := tsa.Init(ctx, dir, tsa.InitOptions{URL: url + tsa.TimestampPath}); err != nil {
			return nil, err
		}
		return tsa.Open(ctx, dir, tsa.Options{Logger: discardLogger()})
	})
	return &TSA{URL: served.URL + tsa.TimestampPath, Chain: served.Server.Chain(), Server: served.Server, Dir: dir,
		TrustedRootPart: readPart(tb, dir, tsa.TrustedRootFile)}
}
