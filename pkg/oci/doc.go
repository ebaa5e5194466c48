// Package oci does registry I/O for cosign-like on go-containerregistry: it resolves
// references to digests, walks indexes, reads and writes signature, attestation and SBOM
// artifacts in both layouts (Sigstore bundles attached as OCI 1.1 referrers or through the
// referrers tag schema, and cosign's legacy .sig/.att/.sbom tags), and bounds every count and
// size it reads. It knows nothing about keys or certificates.
package oci
