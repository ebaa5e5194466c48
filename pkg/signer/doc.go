// Package signer owns the Signer abstraction: a private key that signs digests, with its
// public key and Sigstore algorithm. It never talks to registries and never reads a terminal.
//
// Keys come from four places, chosen by the key reference given to LoadSigner:
//
//   - memory: NewSigner wraps a crypto key; GenerateEphemeral makes a P-256 key for keyless
//     signing that is never written anywhere;
//   - a file path: cosign's encrypted key files (PEM "ENCRYPTED SIGSTORE PRIVATE KEY", or the
//     older "ENCRYPTED COSIGN PRIVATE KEY": the PKCS#8 DER encrypted by go-securesystemslib with
//     scrypt and NaCl secretbox), so keys made by cosign sign here and the reverse;
//   - "pkcs11:" URIs (RFC 7512, as cosign accepts them): the key stays on the token, reached
//     through crypto11 with one logged-in session pool per module and token for the process;
//     ClosePKCS11 releases them;
//   - "<name>://" references: the KMS plugin program sigstore-kms-<name> on PATH, run once per
//     call with Sigstore's plugin protocol (package kmsplugin), so existing plugins work.
//
// ECDSA signatures are ASN.1 DER, Ed25519 keys sign Ed25519ph (what transparency logs accept)
// and RSA signs PKCS#1 v1.5; RSA keys under 2048 bits, curves other than P-256/P-384/P-521 and
// other key types are refused with ErrUnsupportedKey.
package signer
