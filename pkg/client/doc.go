// Package client runs the flows a user asks for (sign, verify, attest, tree, download,
// clean) by composing the registry, signer, bundle, log, CA, TSA and verify packages. The
// command line is a thin layer over it, so a library user gets the same behaviour.
package client
