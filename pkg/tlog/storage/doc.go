// Package storage owns the logs' multi-machine storage: the aws:// storage spec (AWSSpec,
// ParseAWS and its String form), and opening Tessera's AWS driver from it (OpenAWS) with
// MySQL/MariaDB sequencing, the antispam index its front-ends share, and an S3-compatible
// object store for checkpoints, tiles and entry bundles (endpoint, path-style addressing,
// request checksums only when required). It also reads that bucket back (S3Objects: as a
// Tessera log reader, and as an http.FileSystem the CT log serves its checkpoint and tiles
// from), and waits for a tree to integrate an entry (AwaitIntegration). The transparency log
// (package logserver, both of its trees) and the CT log (package ctlog) open their aws://
// storage here; POSIX and mysql:// storage stay with their servers.
package storage
