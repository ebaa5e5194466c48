package tuf

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these where a caller may act on
// the cause; test them with errors.Is.
var (
	// ErrNoRepository means a directory holds no repository made by InitRepository.
	ErrNoRepository = errors.New("not a TUF repository")
	// ErrRepositoryExists means InitRepository was pointed at a directory that already holds one.
	ErrRepositoryExists = errors.New("TUF repository already exists")
	// ErrThreshold means a role's metadata carries fewer valid signatures than its threshold.
	ErrThreshold = errors.New("signature threshold not met")
	// ErrUnsupportedKey means a key is neither Ed25519 nor ECDSA P-256.
	ErrUnsupportedKey = errors.New("unsupported TUF key")
	// ErrUnknownKey means a key given for signing is not a key of the role being signed.
	ErrUnknownKey = errors.New("key is not a key of this role")
	// ErrBadTargetName means a target name is empty, too long or not a plain file name.
	ErrBadTargetName = errors.New("bad target name")
	// ErrBusy means another command holds the repository's lock.
	ErrBusy = errors.New("TUF repository busy")
	// ErrBadOption means an option or argument is out of range.
	ErrBadOption = errors.New("bad option")
	// ErrNotPublished means a repository directory has no published metadata to serve.
	ErrNotPublished = errors.New("nothing published")

	// ErrNoCache means the client has no TUF cache for the mirror: initialize was never run.
	ErrNoCache = errors.New("no TUF cache")
	// ErrCacheExpired means cached metadata expired and the network may not be used to refresh it.
	ErrCacheExpired = errors.New("TUF cache expired")
	// ErrVerification means TUF metadata or a target failed verification: a bad signature, a
	// threshold not met, a rollback, a freeze (expired metadata), a length or hash mismatch.
	ErrVerification = errors.New("TUF verification failed")
	// ErrFetch means the mirror could not be reached or answered with an error status.
	ErrFetch = errors.New("fetching from TUF mirror failed")
	// ErrRootChecksum means the initial root does not have the checksum the user gave.
	ErrRootChecksum = errors.New("root checksum mismatch")
	// ErrTargetMissing means the repository lists no target of the requested name.
	ErrTargetMissing = errors.New("TUF target not found")
)
