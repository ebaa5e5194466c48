// Package logclient talks to a transparency log: Client submits entries and reads checkpoints,
// tiles and entry bundles with size limits. CheckConsistency and RecordCheckpoint keep the last
// verified checkpoint of each log under a state directory and refuse a log that forked, showed a
// split view, or rolled back. VerifyBundleInLog finds a bundle's entry again in the log. Monitor
// re-hashes every entry it reads into the tree and reports those signed by a given identity or
// key. V1Client speaks a log's Rekor v1 API, and VerifyV1Entry checks a v1 entry's signed entry
// timestamp, inclusion proof and UUID. Proofs and checkpoints are checked with package tlog.
package logclient
