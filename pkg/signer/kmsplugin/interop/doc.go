// Package interop proves, in a module of its own so that the product never depends on
// sigstore/sigstore, that the KMS plugin protocol of package kmsplugin is the one Sigstore's
// cliplugin speaks: sigstore's client drives our sigstore-kms-filekey plugin, and our client
// drives a plugin built on sigstore's plugin handler.
package interop
