// Package testutil holds test harnesses shared by cosign-like's tests: an in-process OCI
// registry (go-containerregistry's pkg/registry) behind httptest with a request counter, a
// real distribution 2.8 registry process (Debian's docker-registry), random images,
// misbehaving registries for negative tests, SoftHSM tokens, the built binary, and
// StartServer, which serves any of the module's servers (Handler and Close) for a test.
// Everything listens on 127.0.0.1 only. It imports none of the module's packages, so that the
// servers' own internal tests can use it; testservers, below it, starts the servers themselves.
package testutil
