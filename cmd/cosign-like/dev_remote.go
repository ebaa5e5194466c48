package main

import (
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// devRemoteOptions are the registry options of the dev helper commands: the default keychain.
// Loopback registries are reached over plain HTTP by go-containerregistry itself.
func devRemoteOptions(string) []remote.Option {
	return []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}
}
