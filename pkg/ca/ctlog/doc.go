// Package ctlog is the RFC 6962 certificate transparency log the CA submits its
// precertificates to: add-chain, add-pre-chain and get-roots, answered with v1 SCTs signed by an
// ECDSA P-256 key; entries stored in a Tessera log with the static CT tile layout (C2SP
// static-ct-api, so each SCT carries its leaf index), checkpoints signed by the same key as
// RFC 6962 tree heads; and the client the CA uses to get SCTs. An SCT is answered only once its
// entry is durably sequenced.
//
// Init writes a state directory; Open serves it (POSIX files under dir/log), and New serves a
// key and a Tessera driver handed to it. The Server's Handler carries the shared HTTP setup of
// internal/httpserver.
package ctlog
