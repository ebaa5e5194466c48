// Package devstack runs the embedded local stack behind `cosign-like dev up`: an OCI registry with
// the referrers API, and the servers keyless signing needs, all on loopback in one process, and
// writes the environment a client needs to use them.
package devstack
