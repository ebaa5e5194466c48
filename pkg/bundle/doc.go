// Package bundle reads and writes Sigstore bundles (v0.1 to v0.3, protobuf-specs types over
// protojson), DSSE envelopes, in-toto statements and cosign's simple-signing payload, and turns
// cosign's legacy signature layers into bundles. It performs no network I/O.
//
// Parse bounds and checks a bundle's structure for its version; it never checks signatures,
// which is package verify's work. The writers produce the bytes cosign v3 and sigstore-go
// produce: compact protojson bundles, keyed bundles whose public key hint is the base64
// SHA-256 of the PKIX key, DSSE envelopes without keyid, the cosign image statement
// (predicate https://sigstore.dev/cosign/sign/v1) and the legacy simple-signing payload.
package bundle
