// Package integration runs the cosign-like binary, built once per test run, against real
// servers on 127.0.0.1: Debian's docker-registry (distribution 2.8) as a process and
// go-containerregistry's registry in-process.
package integration
