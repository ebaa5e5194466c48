// Package tlog is the transparency log's pure code, shared by its server, its client and the
// verifier: checkpoints (C2SP signed notes) and their signing, RFC 6962 inclusion and consistency
// proofs, the Rekor v2 request and entry bodies (hashedrekord 0.0.2, and dsseRequestV002 read as
// the hashedrekord over the envelope's pre-authentication encoding), and log keys read from a
// trusted root. It performs no I/O and imports no network, storage or metrics code, as
// transparency-dev/merkle keeps its proofs apart: a test fails if it ever does.
//
// OpenCheckpoint parses a signed note whose body is a tlog-checkpoint and verifies it with a
// trusted LogKey: Ed25519 note signatures (Rekor v2 logs, this log), ECDSA signatures as Rekor
// v1 writes them, and RFC 6962 tree head signatures as CT logs write them (C2SP static-ct-api,
// TreeHeadLogKey). VerifyInclusion and VerifyConsistency check proofs. VerifyEntry checks a whole
// TransparencyLogEntry offline; MatchBundleEntry checks that an entry records a bundle.
//
// Witnessing (C2SP tlog-cosignature, tlog-witness, tlog-policy): ParseVerifierKey reads
// signed-note verifier keys; CosignatureSigner and CosignatureVerifier make and check Ed25519
// cosignature/v1 signature lines; AddCheckpointRequest is the body of a witness's add-checkpoint
// call; ParseWitnessPolicy reads a policy file (Tessera's form and C2SP's), and its
// WitnessPolicy says whether a signed checkpoint carries the cosignatures its quorum requires
// (Satisfied) and checks the log's signature too (VerifyCheckpoint). TrimCheckpoint keeps of a
// note only the log signature that verified.
//
// The server is package logserver; the client, the state it keeps and the monitor are package
// logclient; the witness server is package witness.
package tlog
