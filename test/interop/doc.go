// Package interop checks that cosign-like and sigstore-go accept each other's bundles. It is a
// separate module so that sigstore-go stays out of the product's dependency graph.
package interop
