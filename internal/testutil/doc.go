// Package testutil holds test harnesses shared by cosign-like's tests: an in-process OCI
// registry (go-containerregistry's pkg/registry) behind httptest with a request counter, a
// real distribution 2.8 registry process (Debian's docker-registry), random images, and
// misbehaving registries for negative tests. Everything listens on 127.0.0.1 only.
package testutil
