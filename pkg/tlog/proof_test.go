package tlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var updateVectors = flag.Bool("update", false, "rewrite the proof vectors under testdata/tlog")

const vectorDir = "../../testdata/tlog"

// proofVector is one stored proof case. Inclusion vectors use Index, Size, LeafHash and Root;
// consistency vectors use Size1, Size2, Root1 and Root2.
type proofVector struct {
	Description string   `json:"description"`
	Valid       bool     `json:"valid"`
	Index       uint64   `json:"index,omitempty"`
	Size        uint64   `json:"size,omitempty"`
	LeafHash    []byte   `json:"leafHash,omitempty"`
	Root        []byte   `json:"root,omitempty"`
	Size1       uint64   `json:"size1,omitempty"`
	Size2       uint64   `json:"size2,omitempty"`
	Root1       []byte   `json:"root1,omitempty"`
	Root2       []byte   `json:"root2,omitempty"`
	Proof       [][]byte `json:"proof"`
}

func flip(h []byte) []byte {
	c := bytes.Clone(h)
	c[0] ^= 0x01
	return c
}

func cloneProof(p [][]byte) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = bytes.Clone(p[i])
	}
	return out
}

// buildInclusionVectors derives the stored inclusion cases from the reference tree.
func buildInclusionVectors() map[string]proofVector {
	leaves := refLeaves(21)
	const idx, size = 6, 13
	root := refRoot(leaves[:size])
	p := refPath(idx, leaves[:size])
	base := proofVector{Index: idx, Size: size, LeafHash: leaves[idx], Root: root, Proof: p}
	with := func(desc string, f func(v *proofVector)) proofVector {
		v := base
		v.Proof = cloneProof(base.Proof)
		v.Description = desc
		f(&v)
		return v
	}
	vs := map[string]proofVector{
		"valid_middle":       with("leaf 6 of 13", func(v *proofVector) { v.Valid = true }),
		"wrong_index":        with("index one higher", func(v *proofVector) { v.Index++ }),
		"wrong_index_low":    with("index one lower", func(v *proofVector) { v.Index-- }),
		"wrong_size_bigger":  with("size 17: a taller tree", func(v *proofVector) { v.Size = 17 }),
		"wrong_size_smaller": with("size 7: leaf 6 becomes the last leaf", func(v *proofVector) { v.Size = 7 }),
		"index_equals_size":  with("index not below size", func(v *proofVector) { v.Index = v.Size }),
		"size_zero":          with("empty tree", func(v *proofVector) { v.Size = 0; v.Index = 0 }),
		"truncated_proof":    with("last hash removed", func(v *proofVector) { v.Proof = v.Proof[:len(v.Proof)-1] }),
		"empty_proof":        with("no hashes", func(v *proofVector) { v.Proof = [][]byte{} }),
		"extra_hash":         with("a hash appended", func(v *proofVector) { v.Proof = append(v.Proof, leaves[0]) }),
		"extra_hash_front":   with("a hash prepended", func(v *proofVector) { v.Proof = append([][]byte{leaves[0]}, v.Proof...) }),
		"swapped_root":       with("root of another tree size", func(v *proofVector) { v.Root = refRoot(leaves[:size+1]) }),
		"swapped_hashes":     with("two proof hashes swapped", func(v *proofVector) { v.Proof[0], v.Proof[1] = v.Proof[1], v.Proof[0] }),
		"flipped_proof_bit":  with("a bit flipped in a proof hash", func(v *proofVector) { v.Proof[1] = flip(v.Proof[1]) }),
		"flipped_root_bit":   with("a bit flipped in the root", func(v *proofVector) { v.Root = flip(v.Root) }),
		"wrong_leaf":         with("another leaf's hash", func(v *proofVector) { v.LeafHash = leaves[7] }),
		"short_proof_hash":   with("a 31-byte proof hash", func(v *proofVector) { v.Proof[2] = v.Proof[2][:31] }),
		"short_leaf_hash":    with("a 31-byte leaf hash", func(v *proofVector) { v.LeafHash = v.LeafHash[:31] }),
		"root_as_leaf":       with("the root given as the leaf with an empty proof", func(v *proofVector) { v.LeafHash = root; v.Proof = nil }),
	}
	for _, c := range []struct {
		name        string
		index, size int
	}{{"valid_single_leaf", 0, 1}, {"valid_first", 0, 8}, {"valid_last_power_of_two", 7, 8}, {"valid_last_odd", 20, 21}} {
		vs[c.name] = proofVector{Description: "reference proof", Valid: true, Index: uint64(c.index), Size: uint64(c.size),
			LeafHash: leaves[c.index], Root: refRoot(leaves[:c.size]), Proof: refPath(c.index, leaves[:c.size])}
	}
	return vs
}

// buildConsistencyVectors derives the stored consistency cases from the reference tree.
func buildConsistencyVectors() map[string]proofVector {
	leaves := refLeaves(21)
	const s1, s2 = 6, 13
	base := proofVector{Size1: s1, Size2: s2, Root1: refRoot(leaves[:s1]), Root2: refRoot(leaves[:s2]), Proof: refConsistency(s1, leaves[:s2])}
	with := func(desc string, f func(v *proofVector)) proofVector {
		v := base
		v.Proof = cloneProof(base.Proof)
		v.Description = desc
		f(&v)
		return v
	}
	vs := map[string]proofVector{
		"valid_6_13":          with("size 6 to 13", func(v *proofVector) { v.Valid = true }),
		"wrong_size1":         with("first size one higher", func(v *proofVector) { v.Size1++ }),
		"wrong_size2":         with("second size 17: a taller tree", func(v *proofVector) { v.Size2 = 17 }),
		"sizes_reversed":      with("second size below the first", func(v *proofVector) { v.Size1, v.Size2 = v.Size2, v.Size1; v.Root1, v.Root2 = v.Root2, v.Root1 }),
		"truncated_proof":     with("last hash removed", func(v *proofVector) { v.Proof = v.Proof[:len(v.Proof)-1] }),
		"empty_proof":         with("no hashes", func(v *proofVector) { v.Proof = [][]byte{} }),
		"extra_hash":          with("a hash appended", func(v *proofVector) { v.Proof = append(v.Proof, leaves[0]) }),
		"swapped_roots":       with("first and second roots swapped", func(v *proofVector) { v.Root1, v.Root2 = v.Root2, v.Root1 }),
		"wrong_root1":         with("first root of another size", func(v *proofVector) { v.Root1 = refRoot(leaves[:s1+1]) }),
		"wrong_root2":         with("second root of another size", func(v *proofVector) { v.Root2 = refRoot(leaves[:s2+1]) }),
		"flipped_proof_bit":   with("a bit flipped in a proof hash", func(v *proofVector) { v.Proof[0] = flip(v.Proof[0]) }),
		"swapped_hashes":      with("two proof hashes swapped", func(v *proofVector) { v.Proof[0], v.Proof[1] = v.Proof[1], v.Proof[0] }),
		"short_root":          with("a 31-byte root", func(v *proofVector) { v.Root2 = v.Root2[:31] }),
		"fork_same_size1":     with("a different history of the first size", func(v *proofVector) { v.Root1 = refRoot(append([][]byte{leaves[20]}, leaves[1:s1]...)) }),
		"equal_sizes_proof":   with("equal sizes with a non-empty proof", func(v *proofVector) { v.Size1 = s2; v.Root1 = v.Root2 }),
		"size1_zero_bad_root": with("empty first tree with a non-empty root", func(v *proofVector) { v.Size1 = 0; v.Proof = nil }),
	}
	emptyRoot := refRoot(nil)
	for _, c := range []struct {
		name   string
		s1, s2 int
	}{{"valid_power_of_two", 4, 8}, {"valid_1_21", 1, 21}, {"valid_equal", 13, 13}, {"valid_from_empty", 0, 5}, {"valid_7_8", 7, 8}} {
		r1 := emptyRoot
		if c.s1 > 0 {
			r1 = refRoot(leaves[:c.s1])
		}
		vs[c.name] = proofVector{Description: "reference proof", Valid: true, Size1: uint64(c.s1), Size2: uint64(c.s2),
			Root1: r1, Root2: refRoot(leaves[:c.s2]), Proof: refConsistency(c.s1, leaves[:c.s2])}
	}
	return vs
}

func writeVectors(t *testing.T, dir string, vs map[string]proofVector) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range vs {
		if v.Proof == nil {
			v.Proof = [][]byte{}
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGenerateVectors rewrites testdata/tlog with -update; otherwise it checks that the stored
// vectors are exactly what the generator produces.
func TestGenerateVectors(t *testing.T) {
	sets := map[string]map[string]proofVector{"inclusion": buildInclusionVectors(), "consistency": buildConsistencyVectors()}
	for kind, vs := range sets {
		dir := filepath.Join(vectorDir, kind)
		if *updateVectors {
			writeVectors(t, dir, vs)
			continue
		}
		stored := readVectors(t, dir)
		if len(stored) != len(vs) {
			t.Errorf("%s: %d stored vectors, generator makes %d (run with -update)", kind, len(stored), len(vs))
		}
		for name, v := range vs {
			want, _ := json.Marshal(v)
			got, _ := json.Marshal(stored[name])
			if v.Proof == nil {
				v.Proof = [][]byte{}
				want, _ = json.Marshal(v)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("%s/%s differs from the generator (run with -update)", kind, name)
			}
		}
	}
}

func readVectors(t *testing.T, dir string) map[string]proofVector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no vectors in %s", dir)
	}
	out := map[string]proofVector{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v proofVector
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = v
	}
	return out
}

func sortedNames(m map[string]proofVector) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func TestInclusionVectors(t *testing.T) {
	vs := readVectors(t, filepath.Join(vectorDir, "inclusion"))
	for _, name := range sortedNames(vs) {
		v := vs[name]
		t.Run(name, func(t *testing.T) {
			err := VerifyInclusion(v.Index, v.Size, v.LeafHash, v.Proof, v.Root)
			if v.Valid != strings.HasPrefix(name, "valid") {
				t.Fatalf("vector name and validity disagree")
			}
			if v.Valid && err != nil {
				t.Fatalf("valid vector rejected: %v", err)
			}
			if !v.Valid && !errors.Is(err, ErrInclusionProof) {
				t.Fatalf("corrupted vector (%s): got %v, want ErrInclusionProof", v.Description, err)
			}
		})
	}
}

func TestConsistencyVectors(t *testing.T) {
	vs := readVectors(t, filepath.Join(vectorDir, "consistency"))
	for _, name := range sortedNames(vs) {
		v := vs[name]
		t.Run(name, func(t *testing.T) {
			err := VerifyConsistency(v.Size1, v.Size2, v.Proof, v.Root1, v.Root2)
			if v.Valid != strings.HasPrefix(name, "valid") {
				t.Fatalf("vector name and validity disagree")
			}
			if v.Valid && err != nil {
				t.Fatalf("valid vector rejected: %v", err)
			}
			if !v.Valid && !errors.Is(err, ErrConsistencyProof) {
				t.Fatalf("corrupted vector (%s): got %v, want ErrConsistencyProof", v.Description, err)
			}
		})
	}
}

// TestProofsAgainstReference checks every (index, size) and (size1, size2) pair of small trees:
// reference proofs verify, and each single-hash corruption fails.
func TestProofsAgainstReference(t *testing.T) {
	leaves := refLeaves(33)
	for size := 1; size <= len(leaves); size++ {
		root := refRoot(leaves[:size])
		for i := 0; i < size; i++ {
			p := refPath(i, leaves[:size])
			if err := VerifyInclusion(uint64(i), uint64(size), leaves[i], p, root); err != nil {
				t.Fatalf("inclusion %d/%d: %v", i, size, err)
			}
			for j := range p {
				bad := cloneProof(p)
				bad[j] = flip(bad[j])
				if err := VerifyInclusion(uint64(i), uint64(size), leaves[i], bad, root); err == nil {
					t.Fatalf("inclusion %d/%d accepted with hash %d corrupted", i, size, j)
				}
			}
		}
		for s1 := 0; s1 <= size; s1++ {
			r1 := refRoot(leaves[:s1])
			p := refConsistency(s1, leaves[:size])
			if err := VerifyConsistency(uint64(s1), uint64(size), p, r1, root); err != nil {
				t.Fatalf("consistency %d->%d: %v", s1, size, err)
			}
			for j := range p {
				bad := cloneProof(p)
				bad[j] = flip(bad[j])
				if err := VerifyConsistency(uint64(s1), uint64(size), bad, r1, root); err == nil {
					t.Fatalf("consistency %d->%d accepted with hash %d corrupted", s1, size, j)
				}
			}
		}
	}
}

func TestLeafHash(t *testing.T) {
	for _, d := range []string{"", "a", "entry-7"} {
		if !bytes.Equal(LeafHash([]byte(d)), refLeaf([]byte(d))) {
			t.Errorf("LeafHash(%q) differs from the reference", d)
		}
	}
}
