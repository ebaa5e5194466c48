// Package tlog is the transparency log: a Rekor v2-compatible server on Tessera with a C2SP
// tlog-tiles read API, its client, checkpoint (signed note) and Merkle proof verification, and a
// monitor that walks new entries.
package tlog
