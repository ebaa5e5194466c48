// Package interop checks pkg/signer against sigstore/sigstore, the library cosign builds on, in
// a module of its own so that the product never depends on it: key files (cosign.key and
// cosign.pub) are read and written both ways, sigstore's plugin client drives our
// sigstore-kms-filekey plugin, and our plugin client drives a plugin built on sigstore's
// plugin handler.
package interop
