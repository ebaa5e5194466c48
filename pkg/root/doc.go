// Package root is the trust material: the trusted root (transparency logs, CT logs, certificate
// and timestamp authorities, each with its validity window) and the signing config (the CA,
// OpenID provider, log and timestamp authority to sign with), in the protobuf-specs JSON forms
// and media types every Sigstore client reads.
//
// ParseTrustedRoot and ParseSigningConfig read each document once into a value that the
// verifier, the log client, the signing flows and the TUF client take as it is;
// MarshalTrustedRoot and NewSigningConfig write them. Nothing here performs network I/O.
package root
