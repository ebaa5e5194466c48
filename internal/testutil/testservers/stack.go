package testservers

import (
	"context"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/devstack"
	"github.com/cosign-like/cosign-like/pkg/root"
)

// Stack is the keyless stack started by StartStack.
type Stack struct {
	// Stack is the running dev stack: its URLs, its dev issuer, its registry, the paths of
	// the trust files it wrote.
	*devstack.Stack
	// TrustedRoot is the stack's trusted root: its CA, CT log, log and TSA.
	TrustedRoot *root.TrustedRoot
	// SigningConfig is the stack's signing config: the URLs of its CA, dev issuer, log and TSA.
	SigningConfig *root.SigningConfig
}

// StartStack starts, with devstack.Start, the CT log, CA, transparency log and TSA together
// with the OIDC dev issuer the CA trusts (and the stack's registry and TUF repository), all on
// 127.0.0.1 with their state in a temporary directory, parses the trusted root and signing
// config the stack wrote, and stops it when the test ends.
func StartStack(tb testing.TB) *Stack {
	tb.Helper()
	st, err := devstack.Start(context.Background(), devstack.Config{Dir: testutil.StorageDir(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testutil.CloseTimeout)
		defer cancel()
		if err := st.Close(ctx); err != nil {
			tb.Errorf("closing the dev stack: %v", err)
		}
	})
	tr, err := root.LoadTrustedRoot(st.TrustedRootPath)
	if err != nil {
		tb.Fatal(err)
	}
	sc, err := root.LoadSigningConfig(st.SigningConfigPath, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return &Stack{Stack: st, TrustedRoot: tr, SigningConfig: sc}
}
