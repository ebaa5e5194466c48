// Package logclient talks to a transparency log: Client submits entries and reads checkpoints,
// tiles and entry bundles with size limits. CheckConsistency and RecordCheckpoint keep the last
// verified checkpoint of each log under a state directory and refuse a log that forked, showed a
// split view, or rolled back. VerifyBundleInLog finds a bundle's entry again in the log. Monitor
// re-hashes every entry it reads into the tree and reports those signed by a given identity or
// key. Proofs and checkpoints are checked with package tlog.
package logclient
