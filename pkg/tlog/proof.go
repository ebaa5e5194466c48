package tlog

import (
	"fmt"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// maxProofHashes bounds the hashes in a proof: a tree of 2^64 leaves needs at most 64 for an
// inclusion proof and 128 for a consistency proof.
const maxProofHashes = 128

// LeafHash is the RFC 6962 hash of a log entry: SHA-256(0x00 || data).
func LeafHash(data []byte) []byte {
	return rfc6962.DefaultHasher.HashLeaf(data)
}

// checkHashes checks that every hash is a SHA-256 digest.
func checkHashes(family error, proofHashes [][]byte, named map[string][]byte) error {
	if len(proofHashes) > maxProofHashes {
		return fmt.Errorf("%w: %d hashes, limit %d", family, len(proofHashes), maxProofHashes)
	}
	for name, h := range named {
		if len(h) != rfc6962.DefaultHasher.Size() {
			return fmt.Errorf("%w: %s is %d bytes, want %d", family, name, len(h), rfc6962.DefaultHasher.Size())
		}
	}
	for i, h := range proofHashes {
		if len(h) != rfc6962.DefaultHasher.Size() {
			return fmt.Errorf("%w: proof hash %d is %d bytes, want %d", family, i, len(h), rfc6962.DefaultHasher.Size())
		}
	}
	return nil
}

// VerifyInclusion checks an RFC 6962 inclusion proof that the leaf with hash leafHash is at index
// in the tree of the given size whose root hash is root. Failures wrap ErrInclusionProof.
func VerifyInclusion(index, size uint64, leafHash []byte, proofHashes [][]byte, root []byte) error {
	if err := checkHashes(ErrInclusionProof, proofHashes, map[string][]byte{"leaf hash": leafHash, "root hash": root}); err != nil {
		return err
	}
	if index >= size {
		return fmt.Errorf("%w: index %d is not below tree size %d", ErrInclusionProof, index, size)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, leafHash, proofHashes, root); err != nil {
		return fmt.Errorf("%w: leaf %d of tree size %d: %w", ErrInclusionProof, index, size, err)
	}
	return nil
}

// VerifyConsistency checks an RFC 6962 consistency proof that the tree of size1 with root root1
// is a prefix of the tree of size2 with root root2. Equal sizes need an empty proof and equal
// roots; size1 = 0 needs an empty proof and root1 = the empty tree's hash. Failures wrap
// ErrConsistencyProof.
func VerifyConsistency(size1, size2 uint64, proofHashes [][]byte, root1, root2 []byte) error {
	if err := checkHashes(ErrConsistencyProof, proofHashes, map[string][]byte{"first root hash": root1, "second root hash": root2}); err != nil {
		return err
	}
	if size2 < size1 {
		return fmt.Errorf("%w: tree shrank from size %d to %d", ErrConsistencyProof, size1, size2)
	}
	if size1 == 0 {
		empty := rfc6962.DefaultHasher.EmptyRoot()
		if string(root1) != string(empty) {
			return fmt.Errorf("%w: root hash of the empty tree is %x, got %x", ErrConsistencyProof, empty, root1)
		}
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, proofHashes, root1, root2); err != nil {
		return fmt.Errorf("%w: from size %d to %d: %w", ErrConsistencyProof, size1, size2, err)
	}
	return nil
}
