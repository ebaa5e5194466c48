// Package cosigning has a log's storage gather witness cosignatures: from the C2SP tlog-policy
// a log server is given, it configures Tessera to submit each checkpoint it publishes to the
// policy's witnesses and to publish it with their cosignatures, holding it back (or not, when
// told to fail open) while the policy's quorum is not met. The transparency log
// (pkg/tlog/logserver) and the CT log (pkg/ca/ctlog) both witness their checkpoints through it.
package cosigning
