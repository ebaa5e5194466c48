// Package signer owns the Signer abstraction: a private key that signs digests, with its
// public key and Sigstore algorithm. Keys come from memory (ephemeral), from cosign's encrypted
// key files (ENCRYPTED SIGSTORE PRIVATE KEY: scrypt + NaCl secretbox), from PKCS#11 tokens and
// from KMS plugins. It never talks to registries and never reads a terminal.
package signer
