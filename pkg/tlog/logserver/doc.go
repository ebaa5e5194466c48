// Package logserver is the transparency log server: a Rekor v2-compatible write API on Tessera
// with a C2SP tlog-tiles read API, its storage drivers (POSIX files, or MySQL/MariaDB), its
// metrics, its state directory (Init, LoadLogKey) and fsck.
//
// NewServer opens a log directory written by Init and serves, under /api/v2/:
// POST log/entries (hashedRekordRequestV002, as rekor-tiles accepts it, or dsseRequestV002 with
// one signature and one verifier, logged as the hashedrekord 0.0.2 entry over the digest of the
// envelope's pre-authentication encoding that verifiers rebuild; the signature is verified before
// the entry is accepted; identical entries are answered 409 with X-Log-Index), and the tlog-tiles
// resources checkpoint, tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>].
//
// Entries reach Tessera in groups: all requests that arrive while one group is written form the
// next, so a batch costs a fixed number of fsyncs whatever its size and a lone request is not
// delayed. CPU-heavy request work (parsing, signature checks, proofs) runs at most GOMAXPROCS at a
// time, so the writer is not starved between its fsyncs. Each answer carries an inclusion proof
// in a checkpoint the server signs for the integrated tree as soon as its group is written; GET
// checkpoint serves the same, so clients never see a checkpoint older than one they were given.
//
// Open also serves the Rekor v1 API under /api/v1/ (v1http.go) on a second Tessera tree with its
// own ECDSA P-256 key and tree ID (v1key.go, v1log.go): entries canonicalized and verified by
// package rekortypes, signed entry timestamps, retrieval by UUID, index or proposed entry, and an
// index search (v1index.go) backed by a bbolt file beside a tree on files, or by tables in the
// database of a tree on one (v1index_sql.go), shared by every front-end; it is written only after
// an entry is integrated, reconciled with the tree on open, and rebuilt by Reindex.
package logserver
