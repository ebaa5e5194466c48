// Package tuf fetches and caches the trusted root and signing config over TUF (go-tuf v2),
// and publishes TUF repositories for private deployments.
//
// # Client
//
// Initialize trusts an initial root.json for a mirror, refreshes the metadata (following root
// rotations), downloads the targets TrustedRootTarget and SigningConfigTarget and caches
// everything under DefaultCacheDir()/<hash of the mirror URL>/ (metadata/ and targets/), with
// remote.json in the cache directory naming the mirror last initialized. Load returns the two
// targets from that cache, refreshed online, or, with Offline, from the cache alone without
// touching the network. go-tuf's updater performs the TUF client workflow, so rollback, freeze,
// mix-and-match and threshold attacks are refused (ErrVerification), and so is metadata in which
// a role lists one public key under two key IDs; sizes are bounded.
//
// # Publisher
//
// A repository directory holds:
//
//	config.json          key type and expiry periods
//	keys/<keyid>.pem     generated private keys (PKCS#8, mode 0600); keys/retired/ after rotation
//	staged/              the current signed metadata, staged/roots/N.root.json, staged/targets/
//	repository/          the published static files (consistent snapshots)
//
// InitRepository, AddTarget, RemoveTarget, Sign, Rotate and RefreshTimestamp change the staged
// metadata; keys held elsewhere (PKCS#11, KMS) are passed as crypto.Signer values. Publish
// checks the staged metadata the way a client would and writes repository/: N.root.json,
// N.targets.json, N.snapshot.json, timestamp.json and targets/<sha256>.<name>. NewFileServer
// serves repository/, and OpenServer serves it with the servers' shared HTTP setup
// (internal/httpserver); NewDevRepository does everything in one call for a development stack.
package tuf
