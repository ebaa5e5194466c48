// Package tlog is the transparency log: a Rekor v2-compatible server on Tessera with a C2SP
// tlog-tiles read API, its client, checkpoint (signed note) and Merkle proof verification, and a
// monitor that walks new entries.
//
// # Verification (pure functions)
//
// OpenCheckpoint parses a C2SP signed note whose body is a tlog-checkpoint and verifies it with
// a trusted LogKey: Ed25519 note signatures (Rekor v2 logs, this log) and ECDSA signatures as
// Rekor v1 writes them. VerifyInclusion and VerifyConsistency check RFC 6962 proofs. VerifyEntry
// checks a whole TransparencyLogEntry offline. None of them performs I/O.
//
// # Server
//
// NewServer opens a log directory written by Init and serves, under /api/v2/:
// POST log/entries (hashedRekordRequestV002, as rekor-tiles accepts it, or dsseRequestV002 with
// one signature and one verifier, logged as the hashedrekord 0.0.2 entry over the digest of the
// envelope's pre-authentication encoding that verifiers rebuild; the signature is verified before
// the entry is accepted; identical entries are answered 409 with X-Log-Index),
// and the tlog-tiles resources checkpoint, tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>].
// Entries reach Tessera in groups: all requests that arrive while one group is written form the
// next, so a batch costs a fixed number of fsyncs whatever its size and a lone request is not
// delayed. CPU-heavy request work (parsing, signature checks, proofs) runs at most GOMAXPROCS at
// a time, so the writer is not starved between its fsyncs. Each answer carries an inclusion proof in a checkpoint the server signs for the
// integrated tree as soon as its group is written; GET checkpoint serves the same, so clients
// never see a checkpoint older than one they were given.
//
// # Client
//
// Client submits entries and reads checkpoints, tiles and bundles with size limits.
// CheckConsistency and RecordCheckpoint keep the last verified checkpoint of each log under a
// state directory and refuse a log that forked, showed a split view, or rolled back. Monitor
// re-hashes every entry it reads into the tree and reports those signed by a given identity or
// key.
package tlog
