// Package witness is a C2SP tlog-witness server: it follows the logs its configuration lists
// (each by origin and checkpoint verifier key: Ed25519, or a CT log's RFC 6962 tree head key),
// and cosigns (C2SP tlog-cosignature, Ed25519 cosignature/v1) each checkpoint a client submits
// with POST <prefix>/add-checkpoint when it is signed by its log and consistent with the latest
// checkpoint of that log it cosigned before. GET <prefix>/<hex SHA-256 of the origin>/checkpoint gives that latest checkpoint with
// the cosignature.
//
// The check of a submission against the stored state and the update of that state are one
// step per log, serialised, and the state is on the disk (Store; the directory store flushes it)
// before the cosignature is answered: a witness killed at any point never cosigns a checkpoint
// inconsistent with one it cosigned before.
//
// Like every server of cosign-like: Init writes a state directory (key, verifier key, config),
// Open serves one and New one of a key, logs and store handed in; Handler carries the shared
// setup of internal/httpserver and Close releases the server. The pure code (cosignatures,
// checkpoints, proofs, the request body) is in package tlog.
package witness
