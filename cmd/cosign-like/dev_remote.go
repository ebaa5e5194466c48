package main

import (
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cosign-like/cosign-like/internal/netutil"
)

// devRemoteOptions are the registry options of the dev helper commands: the default keychain,
// and requests cancelled when they make no progress for the idle timeout. Loopback registries
// are reached over plain HTTP by go-containerregistry itself.
func devRemoteOptions(string) []remote.Option {
	return []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithTransport(netutil.Bound(netutil.NewTransport(0), 0))}
}
