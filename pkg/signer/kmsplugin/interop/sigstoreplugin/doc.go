// Command sigstoreplugin is a KMS plugin written the way Sigstore documents it, on
// sigstore/sigstore's cliplugin handler, with an ECDSA P-256 key in a PEM file. The interop
// tests install it as sigstore-kms-sigref and drive it with cosign-like's plugin client.
package main
