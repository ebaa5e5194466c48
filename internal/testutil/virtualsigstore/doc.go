// Package virtualsigstore is an in-process Sigstore for tests: a code-signing CA with a CT
// log that embeds real SCTs, an RFC 3161 timestamp authority, and a Rekor v2-style
// transparency log with a real Merkle tree and signed checkpoints. Everything uses real
// cryptography, so the bundles it helps build are verified exactly as production ones are.
package virtualsigstore
