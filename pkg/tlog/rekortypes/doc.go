// Package rekortypes implements the Rekor v1 entry types this log accepts, as Rekor v1.5's own
// pkg/types do: hashedrekord 0.0.1, rekord 0.0.1 (signature formats x509, pgp, minisign, ssh),
// dsse 0.0.1 and intoto 0.0.2. Canonicalize checks a proposed entry (every signature verified,
// nothing fetched: a URL field anywhere is refused) and returns the canonical body Rekor would
// store, byte for byte (RFC 8785 JSON), with the search index keys Rekor's IndexKeys gives.
// Parse reads such a body back from the log. The builders ProposeRekord and ProposeHashedRekord
// make the proposed entries a client uploads.
//
// The package is pure: no network, storage or clock. Every error it returns wraps ErrInvalid.
package rekortypes
