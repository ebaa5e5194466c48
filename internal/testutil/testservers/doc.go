// Package testservers starts the module's real servers for tests: the transparency log, the CT
// log, the CA (trusting a given OpenID provider or the dev issuer of pkg/oidc), the TSA, and the
// whole keyless stack of pkg/devstack with its trusted root and signing config parsed. Each
// starter takes a testing.TB, keeps the server's state in a temporary directory, serves it on
// 127.0.0.1 (testutil.StartServer) and closes it when the test ends. StartCTFrontEnds instead
// runs the CT log as a user scales it out: `cosign-like ct serve` processes on one aws:// storage
// behind haproxy, with ReadTree to read its tree back through its read endpoints.
//
// It imports the server packages, so their own internal tests cannot use it; they use the
// package-free starters of internal/testutil instead.
package testservers
