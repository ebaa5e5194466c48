// Package ctlog is the RFC 6962 certificate transparency log the CA submits its
// precertificates to: add-chain and add-pre-chain answered with v1 SCTs signed by an ECDSA P-256
// key, entries stored in a Tessera POSIX log with the static CT tile layout (C2SP
// static-ct-api), and the client the CA uses to get SCTs.
package ctlog
