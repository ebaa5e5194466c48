// Package bundle reads and writes Sigstore bundles (v0.1 to v0.3, protobuf-specs types over
// protojson), DSSE envelopes, in-toto statements and cosign's simple-signing payload. It performs
// no network I/O.
package bundle
