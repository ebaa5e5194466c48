package signer

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// scryptTableBytes bounds the table of ROMix states scryptKey keeps. scrypt as specified keeps
// all N states (N*128*r bytes: 64 MiB for the parameters cosign writes); scryptKey keeps every
// k-th one and recomputes the others when they are read, which gives the same output with at
// most this much memory at the price of more BlockMix calls.
const scryptTableBytes = 8 << 20

// scryptKey derives keyLen bytes from password and salt with scrypt (RFC 7914) using cost n, block
// size r and parallelization p. The output is the same as every scrypt implementation's, but the
// memory held is bounded by scryptTableBytes (plus a few blocks) instead of n*128*r bytes: of the
// n states the first ROMix loop produces, only every k-th is stored (k the smallest power of two
// that fits the table in scryptTableBytes), and the second loop rebuilds a missing state from
// the stored one before it with up to k-1 BlockMix calls. With n=2^16 and r=8, k is 8 and the
// work is about 2.75 times that of a full table.
func scryptKey(password, salt []byte, n, r, p, keyLen int) ([]byte, error) {
	return scryptKeyWithTable(password, salt, n, r, p, keyLen, scryptTableBytes)
}

// scryptKeyWithTable is scryptKey with the bound on the table of states given as tableBytes;
// the stride is the smallest power of two that fits the table in it (or n, storing one state).
func scryptKeyWithTable(password, salt []byte, n, r, p, keyLen int, tableBytes uint64) ([]byte, error) {
	switch {
	case n <= 1 || n&(n-1) != 0:
		return nil, fmt.Errorf("scrypt: N=%d is not a power of two greater than 1", n)
	case r <= 0 || p <= 0:
		return nil, fmt.Errorf("scrypt: r=%d and p=%d must be positive", r, p)
	case uint64(r)*uint64(p) >= 1<<30:
		return nil, fmt.Errorf("scrypt: r*p=%d is not below 2^30", uint64(r)*uint64(p))
	case 128*uint64(r)*uint64(p) > math.MaxInt32 || uint64(n) > 1<<32:
		return nil, fmt.Errorf("scrypt: parameters N=%d r=%d p=%d are too large", n, r, p)
	case keyLen <= 0:
		return nil, fmt.Errorf("scrypt: key length %d must be positive", keyLen)
	}
	words := 32 * r // uint32 words in one ROMix state of 128*r bytes
	stride := 1
	for n/stride > 1 && uint64(n/stride)*uint64(4*words) > tableBytes {
		stride *= 2
	}

	b, err := pbkdf2.Key(sha256.New, string(password), salt, 1, p*4*words)
	if err != nil {
		return nil, fmt.Errorf("scrypt: %w", err)
	}
	defer clear(b)
	w := &romixState{
		table: make([]uint32, (n/stride)*words),
		x:     make([]uint32, words),
		y:     make([]uint32, words),
		t1:    make([]uint32, words),
		t2:    make([]uint32, words),
	}
	defer w.wipe()
	for lane := range p {
		chunk := b[lane*4*words : (lane+1)*4*words]
		for i := range w.x {
			w.x[i] = binary.LittleEndian.Uint32(chunk[4*i:])
		}
		w.romix(n, r, stride)
		for i, v := range w.x {
			binary.LittleEndian.PutUint32(chunk[4*i:], v)
		}
	}
	key, err := pbkdf2.Key(sha256.New, string(password), b, 1, keyLen)
	if err != nil {
		return nil, fmt.Errorf("scrypt: %w", err)
	}
	return key, nil
}

// romixState is the working memory of one scryptKey call: the sparse table of states and four
// blocks of 32*r words. x holds the input of romix and, after it, the output.
type romixState struct {
	table        []uint32
	x, y, t1, t2 []uint32
	salsaScratch [16]uint32
}

// wipe clears everything derived from the password.
func (w *romixState) wipe() {
	clear(w.table)
	clear(w.x)
	clear(w.y)
	clear(w.t1)
	clear(w.t2)
	clear(w.salsaScratch[:])
}

// romix runs scrypt's ROMix on w.x with cost n, storing every stride-th state of the first loop.
func (w *romixState) romix(n, r, stride int) {
	words := 32 * r
	x, y := w.x, w.y
	for i := range n {
		if i&(stride-1) == 0 {
			copy(w.table[(i/stride)*words:], x)
		}
		blockMix(y, x, nil, r, &w.salsaScratch)
		x, y = y, x
	}
	last := (2*r - 1) * 16
	for range n {
		j := int((uint64(x[last]) | uint64(x[last+1])<<32) & uint64(n-1))
		v := w.table[(j/stride)*words : (j/stride+1)*words]
		if m := j & (stride - 1); m > 0 {
			// Rebuild state j from the stored state j-m.
			blockMix(w.t1, v, nil, r, &w.salsaScratch)
			a, c := w.t1, w.t2
			for range m - 1 {
				blockMix(c, a, nil, r, &w.salsaScratch)
				a, c = c, a
			}
			v = a
		}
		blockMix(y, x, v, r, &w.salsaScratch)
		x, y = y, x
	}
	// After 2n swaps (n is even) x is w.x again, and this copy does nothing.
	copy(w.x, x)
}

// blockMix computes scrypt's BlockMix of in (or of in XOR mask when mask is not nil) into out,
// for blocks of 2*r Salsa20/8 inputs. out must not overlap in or mask. s is scratch space.
func blockMix(out, in, mask []uint32, r int, s *[16]uint32) {
	last := (2*r - 1) * 16
	*s = *(*[16]uint32)(in[last:])
	if mask != nil {
		m := (*[16]uint32)(mask[last:])
		for i := range s {
			s[i] ^= m[i]
		}
	}
	for i := range 2 * r {
		src := (*[16]uint32)(in[i*16:])
		if mask != nil {
			m := (*[16]uint32)(mask[i*16:])
			for k := range s {
				s[k] ^= src[k] ^ m[k]
			}
		} else {
			for k := range s {
				s[k] ^= src[k]
			}
		}
		salsa208(s)
		// Even-numbered outputs fill the first half of out, odd-numbered the second.
		*(*[16]uint32)(out[((i&1)*r+i/2)*16:]) = *s
	}
}

// salsa208 replaces s with the Salsa20/8 core of s: four double rounds, then the input added
// word by word.
func salsa208(s *[16]uint32) {
	x0, x1, x2, x3 := s[0], s[1], s[2], s[3]
	x4, x5, x6, x7 := s[4], s[5], s[6], s[7]
	x8, x9, x10, x11 := s[8], s[9], s[10], s[11]
	x12, x13, x14, x15 := s[12], s[13], s[14], s[15]
	for range 4 {
		// Columns.
		x4 ^= bits.RotateLeft32(x0+x12, 7)
		x9 ^= bits.RotateLeft32(x5+x1, 7)
		x14 ^= bits.RotateLeft32(x10+x6, 7)
		x3 ^= bits.RotateLeft32(x15+x11, 7)
		x8 ^= bits.RotateLeft32(x4+x0, 9)
		x13 ^= bits.RotateLeft32(x9+x5, 9)
		x2 ^= bits.RotateLeft32(x14+x10, 9)
		x7 ^= bits.RotateLeft32(x3+x15, 9)
		x12 ^= bits.RotateLeft32(x8+x4, 13)
		x1 ^= bits.RotateLeft32(x13+x9, 13)
		x6 ^= bits.RotateLeft32(x2+x14, 13)
		x11 ^= bits.RotateLeft32(x7+x3, 13)
		x0 ^= bits.RotateLeft32(x12+x8, 18)
		x5 ^= bits.RotateLeft32(x1+x13, 18)
		x10 ^= bits.RotateLeft32(x6+x2, 18)
		x15 ^= bits.RotateLeft32(x11+x7, 18)
		// Rows.
		x1 ^= bits.RotateLeft32(x0+x3, 7)
		x6 ^= bits.RotateLeft32(x5+x4, 7)
		x11 ^= bits.RotateLeft32(x10+x9, 7)
		x12 ^= bits.RotateLeft32(x15+x14, 7)
		x2 ^= bits.RotateLeft32(x1+x0, 9)
		x7 ^= bits.RotateLeft32(x6+x5, 9)
		x8 ^= bits.RotateLeft32(x11+x10, 9)
		x13 ^= bits.RotateLeft32(x12+x15, 9)
		x3 ^= bits.RotateLeft32(x2+x1, 13)
		x4 ^= bits.RotateLeft32(x7+x6, 13)
		x9 ^= bits.RotateLeft32(x8+x11, 13)
		x14 ^= bits.RotateLeft32(x13+x12, 13)
		x0 ^= bits.RotateLeft32(x3+x2, 18)
		x5 ^= bits.RotateLeft32(x4+x7, 18)
		x10 ^= bits.RotateLeft32(x9+x8, 18)
		x15 ^= bits.RotateLeft32(x14+x13, 18)
	}
	s[0] += x0
	s[1] += x1
	s[2] += x2
	s[3] += x3
	s[4] += x4
	s[5] += x5
	s[6] += x6
	s[7] += x7
	s[8] += x8
	s[9] += x9
	s[10] += x10
	s[11] += x11
	s[12] += x12
	s[13] += x13
	s[14] += x14
	s[15] += x15
}
