package tlog

import (
	"crypto/sha256"
	"fmt"
)

// This file is a deliberately naive RFC 6962 (section 2.1) Merkle tree, written straight from the
// RFC's recursive definitions, used to cross-check the proof verifiers and to build vectors.

func refLeaf(data []byte) []byte {
	h := sha256.Sum256(append([]byte{0}, data...))
	return h[:]
}

func refNode(l, r []byte) []byte {
	b := append([]byte{1}, l...)
	b = append(b, r...)
	h := sha256.Sum256(b)
	return h[:]
}

// refSplit is the largest power of two smaller than n (n > 1).
func refSplit(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

// refRoot is MTH(D[n]) over leaf hashes.
func refRoot(leaves [][]byte) []byte {
	switch len(leaves) {
	case 0:
		h := sha256.Sum256(nil)
		return h[:]
	case 1:
		return leaves[0]
	}
	k := refSplit(len(leaves))
	return refNode(refRoot(leaves[:k]), refRoot(leaves[k:]))
}

// refPath is PATH(m, D[n]): the inclusion proof of leaf m.
func refPath(m int, leaves [][]byte) [][]byte {
	if len(leaves) <= 1 {
		return nil
	}
	k := refSplit(len(leaves))
	if m < k {
		return append(refPath(m, leaves[:k]), refRoot(leaves[k:]))
	}
	return append(refPath(m-k, leaves[k:]), refRoot(leaves[:k]))
}

// refConsistency is PROOF(m, D[n]).
func refConsistency(m int, leaves [][]byte) [][]byte {
	if m == 0 || m == len(leaves) {
		return nil
	}
	return refSubproof(m, leaves, true)
}

func refSubproof(m int, leaves [][]byte, b bool) [][]byte {
	n := len(leaves)
	if m == n {
		if b {
			return nil
		}
		return [][]byte{refRoot(leaves)}
	}
	k := refSplit(n)
	if m <= k {
		return append(refSubproof(m, leaves[:k], b), refRoot(leaves[k:]))
	}
	return append(refSubproof(m-k, leaves[k:], false), refRoot(leaves[:k]))
}

// refLeaves returns the leaf hashes of a tree of n entries "entry-0", "entry-1", ...
func refLeaves(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = refLeaf([]byte(fmt.Sprintf("entry-%d", i)))
	}
	return out
}
