package tlog

import "errors"

// Errors returned by checkpoint parsing and verification. Each specific error wraps
// ErrCheckpoint, so callers can test for the family or for the exact cause with errors.Is.
var (
	// ErrCheckpoint is the family of every checkpoint and signed-note error.
	ErrCheckpoint = errors.New("invalid checkpoint")
	// ErrNoteTooLarge reports a signed note longer than MaxNoteSize.
	ErrNoteTooLarge = wrapErr(ErrCheckpoint, "signed note too large")
	// ErrMalformedNote reports a signed note that does not follow the C2SP signed-note syntax.
	ErrMalformedNote = wrapErr(ErrCheckpoint, "malformed signed note")
	// ErrMalformedCheckpoint reports a note body that is not a C2SP tlog-checkpoint.
	ErrMalformedCheckpoint = wrapErr(ErrCheckpoint, "malformed checkpoint body")
	// ErrUnknownKey reports a note that carries no signature whose key hint matches a trusted key.
	ErrUnknownKey = wrapErr(ErrCheckpoint, "no signature from a trusted log key")
	// ErrBadSignature reports a signature from a trusted key (by key hint) that does not verify.
	ErrBadSignature = wrapErr(ErrCheckpoint, "checkpoint signature does not verify")
	// ErrOriginMismatch reports a checkpoint whose origin line differs from the trusted key's origin.
	ErrOriginMismatch = wrapErr(ErrCheckpoint, "checkpoint origin does not match the log key")
	// ErrUnsupportedKey reports a trusted log key of a type that cannot sign checkpoints.
	ErrUnsupportedKey = wrapErr(ErrCheckpoint, "unsupported log key type")
	// ErrMalformedVerifierKey reports a string that is not a C2SP signed-note verifier key
	// ("<name>+<hex key ID>+<base64 key>"), or one whose key ID does not match its key.
	ErrMalformedVerifierKey = wrapErr(ErrCheckpoint, "malformed note verifier key")
)

// Errors returned by cosignature signing and verification. Each wraps ErrCosignature.
var (
	// ErrCosignature is the family of every cosignature error.
	ErrCosignature = errors.New("invalid cosignature")
	// ErrNoCosignature reports a note that carries no signature line with the cosigner's name
	// and key ID.
	ErrNoCosignature = wrapErr(ErrCosignature, "no cosignature by the witness")
	// ErrBadCosignature reports a cosignature line with the cosigner's name and key ID that
	// does not verify over the checkpoint body.
	ErrBadCosignature = wrapErr(ErrCosignature, "cosignature does not verify")
	// ErrCosignatureTimestamp reports a cosignature timestamp of zero or above 2^63-1.
	ErrCosignatureTimestamp = wrapErr(ErrCosignature, "cosignature timestamp out of range")
	// ErrUnsupportedCosignatureKey reports a witness key of a type this package cannot verify
	// (ML-DSA-44, or a type it does not know).
	ErrUnsupportedCosignatureKey = wrapErr(ErrCosignature, "unsupported witness key type")
)

// Errors returned by witness policies and the witness protocol. Each wraps ErrWitness.
var (
	// ErrWitness is the family of witness policy and protocol errors.
	ErrWitness = errors.New("witness policy")
	// ErrMalformedPolicy reports a policy file that does not follow C2SP tlog-policy; the
	// error is a *PolicyError naming the line.
	ErrMalformedPolicy = wrapErr(ErrWitness, "malformed witness policy")
	// ErrQuorumNotMet reports a checkpoint without enough valid cosignatures for the policy's
	// quorum.
	ErrQuorumNotMet = wrapErr(ErrWitness, "witness quorum not met")
	// ErrMalformedWitnessRequest reports an add-checkpoint request body that does not follow
	// C2SP tlog-witness.
	ErrMalformedWitnessRequest = wrapErr(ErrWitness, "malformed add-checkpoint request")
)

// Errors returned by Merkle proof verification. Both wrap ErrProof.
var (
	// ErrProof is the family of every Merkle proof error.
	ErrProof = errors.New("invalid Merkle proof")
	// ErrInclusionProof reports an inclusion proof that does not verify.
	ErrInclusionProof = wrapErr(ErrProof, "inclusion proof does not verify")
	// ErrConsistencyProof reports a consistency proof that does not verify.
	ErrConsistencyProof = wrapErr(ErrProof, "consistency proof does not verify")
)

// familyError is a sentinel error that belongs to a family: errors.Is matches both.
type familyError struct {
	family error
	msg    string
}

func (e *familyError) Error() string { return e.msg }
func (e *familyError) Unwrap() error { return e.family }

func wrapErr(family error, msg string) error { return &familyError{family: family, msg: msg} }
