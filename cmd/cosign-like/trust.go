package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cosign-like/cosign-like/internal/limitio"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/tuf"
)

// errNoTrustedRoot is what a command that needs a trusted root says when none was found.
var errNoTrustedRoot = errors.New("no trusted root: pass --trusted-root, set COSIGN_LIKE_TRUSTED_ROOT, or run `cosign-like initialize`")

// Trust material is found in this order: the flag (whose default is an environment variable);
// the TUF cache that `initialize` filled (refreshed from its mirror unless offline); nothing else
// (nil, nil).

// loadTrustedRoot returns the trusted root of the file at path, or else of the TUF cache.
func loadTrustedRoot(ctx context.Context, path string, offline bool) (*root.TrustedRoot, error) {
	if path != "" {
		data, err := limitio.ReadFile(path, maxTrustFile)
		if err != nil {
			return nil, err
		}
		return root.ParseTrustedRoot(data)
	}
	m, err := loadTUF(ctx, offline)
	if m == nil || err != nil {
		return nil, err
	}
	return m.TrustedRoot, nil
}

// loadSigningConfig returns the services of the signing config file at path, or else of the TUF
// cache's signing config.
func loadSigningConfig(ctx context.Context, path string) (*root.SigningConfig, error) {
	if path != "" {
		data, err := limitio.ReadFile(path, maxTrustFile)
		if err != nil {
			return nil, err
		}
		sc, err := root.ParseSigningConfig(data, time.Now())
		if err != nil {
			return nil, fmt.Errorf("signing config: %w", err)
		}
		return sc, nil
	}
	m, err := loadTUF(ctx, false)
	if m == nil || err != nil {
		return nil, err
	}
	return m.SigningConfig, nil
}

// loadTUF reads the TUF cache; nil, nil when `initialize` never ran.
func loadTUF(ctx context.Context, offline bool) (*root.Material, error) {
	m, err := tuf.Load(ctx, tuf.LoadOptions{Offline: offline, OnCacheFallback: func(err error) {
		fmt.Fprintf(os.Stderr, "WARNING: TUF mirror unreachable (%v): using the cached trust material\n", err)
	}})
	if errors.Is(err, tuf.ErrNoCache) {
		return nil, nil
	}
	return m, err
}
