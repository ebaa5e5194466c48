package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tuf"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// errNoTrustedRoot is what a command that needs a trusted root says when none was found.
var errNoTrustedRoot = errors.New("no trusted root: pass --trusted-root, set COSIGN_LIKE_TRUSTED_ROOT, or run `cosign-like initialize`")

// trustFile returns a trust file's content, found in this order: the flag (whose default is an
// environment variable); the TUF cache that `initialize` filled (refreshed from its mirror unless
// offline), via pick; nothing else (nil, nil).
func trustFile(ctx context.Context, path string, offline bool, pick func(trustedRoot, signingConfig []byte) []byte) ([]byte, error) {
	if path != "" {
		return readBounded(path, maxTrustFile)
	}
	tr, sc, err := tuf.Load(ctx, tuf.LoadOptions{Offline: offline, OnCacheFallback: func(err error) {
		fmt.Fprintf(os.Stderr, "WARNING: TUF mirror unreachable (%v): using the cached trust material\n", err)
	}})
	if errors.Is(err, tuf.ErrNoCache) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return pick(tr, sc), nil
}

func pickTrustedRoot(tr, _ []byte) []byte   { return tr }
func pickSigningConfig(_, sc []byte) []byte { return sc }

// checkLogConsistency is the online part of verification: for each log that vouched for a
// verified signature, fetch its newest checkpoint and prove it consistent with the last one
// this client saw, so that a log that forked or rolled back is detected.
func checkLogConsistency(ctx context.Context, trustedRoot []byte, entries []verify.TlogEntry) error {
	stateDir, err := logclient.DefaultStateDir()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if e.BaseURL == "" || seen[e.BaseURL] {
			continue
		}
		seen[e.BaseURL] = true
		keys, err := tlog.LogKeysFromTrustedRoot(trustedRoot, e.BaseURL)
		if err != nil {
			return err
		}
		if _, err := logclient.CheckConsistency(ctx, e.BaseURL, keys[0], stateDir); err != nil {
			return fmt.Errorf("transparency log %s: %w", e.BaseURL, err)
		}
	}
	return nil
}
