// Package devstack runs the embedded local stack behind `cosign-like dev up`: an OCI registry with
// the referrers API, and the servers keyless signing needs, all on loopback in one process, and
// writes the environment a client needs to use them. Each server is built as its standalone
// command builds it (Init, then Open) and served by internal/httpserver's runner with the
// standalone server's limits.
package devstack
