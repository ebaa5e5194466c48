// Package depcheck holds the test that keeps the packages' boundaries as the design draws them:
// no library package imports the command line, the verifier and the bundle package do no
// network I/O, the registry package knows nothing of keys or certificates, and internal/testutil
// imports none of the module's packages.
package depcheck
