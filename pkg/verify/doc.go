// Package verify holds the verification policy and the verifier. It is handed all material
// (bundle, artifact digest, trusted root) and fetches nothing; every check the policy demands
// must pass, in the order the Sigstore client specification gives, or verification fails.
//
// Verify checks, in this order:
//
//  1. the bundle's structure and bounds (bundle.Validate: known media type, at most 32 log
//     entries and 32 timestamps);
//  2. every RFC 3161 timestamp: it covers the bundle's signature and is signed by a timestamp
//     authority of the trusted root whose chain was valid, and which was trusted (validFor), at
//     the time it states;
//  3. the signature, under the policy's key or the certificate's key, over the message digest
//     or the DSSE envelope's pre-authentication encoding;
//  4. in identity mode, the certificate's SAN and OIDC issuer (and GitHub workflow fields)
//     against the policy: exactly, or by regular expression against the whole value (patterns
//     are wrapped as ^(?:...)$, stricter than cosign, which searches);
//  5. every transparency log entry (unless Policy.UnsafeIgnoreTlog): the log is in the trusted
//     root and was trusted at the entry's time; the body (hashedrekord 0.0.1/0.0.2, dsse
//     0.0.1/0.0.2, intoto 0.0.2) records this signature, key or certificate and digest; the
//     signed entry timestamp of a Rekor v1 entry verifies; the inclusion proof verifies under a
//     checkpoint signed by that log (origin: the host of its base URL); at least
//     Policy.TlogThreshold distinct logs vouch for the signature;
//  6. in identity mode, at every verified signing time (timestamps and SET-backed integrated
//     times; at least one is required): the certificate chains to a certificate authority of
//     the trusted root that was trusted then, with every certificate of the chain valid; its
//     embedded SCTs verify against the trusted root's CT logs whenever it lists any (unless
//     Policy.UnsafeIgnoreSCT);
//  7. the signed content is the artifact: the message digest, or a subject digest of the
//     in-toto statement.
//
// Every error wraps ErrVerification and one of the step errors (ErrTimestamp, ErrTlog,
// ErrCertificate, ErrSCT, ErrIdentityMismatch, ErrNoMatchingSignature, ErrArtifactMismatch...),
// and says what was expected and what was found.
package verify
