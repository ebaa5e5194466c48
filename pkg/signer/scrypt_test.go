package signer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/crypto/scrypt"
)

// randomBytes returns n bytes from rng (deterministic, so a failure can be reproduced).
func randomBytes(t testing.TB, rng *rand.Rand, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// checkSameAsReference derives a key with scryptKeyWithTable and with x/crypto's scrypt.Key and
// fails when they differ.
func checkSameAsReference(t *testing.T, password, salt []byte, n, r, p, keyLen int, tableBytes uint64) {
	t.Helper()
	want, err := scrypt.Key(password, salt, n, r, p, keyLen)
	if err != nil {
		t.Fatal(err)
	}
	got, err := scryptKeyWithTable(password, salt, n, r, p, keyLen, tableBytes)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("N=%d r=%d p=%d keyLen=%d table=%d password=%x salt=%x:\n got  %x\n want %x",
			n, r, p, keyLen, tableBytes, password, salt, got, want)
	}
}

// TestScryptKeyMatchesReference compares the sparse-table scrypt with x/crypto's full-table one
// for small N, with the table bound set so that every stride from 1 (all states kept) to N (one
// state kept) is taken.
func TestScryptKeyMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{'s', 'c', 'r', 'y', 'p', 't'}))
	for logN := 4; logN <= 10; logN++ {
		n := 1 << logN
		for _, r := range []int{1, 2, 3, 4, 8} {
			strides := []int{1, 2, 8}
			if n <= 1<<7 {
				strides = append(strides, n) // quadratic work: small N only
			}
			for _, stride := range strides {
				tableBytes := uint64(n/stride) * uint64(128*r)
				t.Run(fmt.Sprintf("N=%d/r=%d/stride=%d", n, r, stride), func(t *testing.T) {
					for _, keyLen := range []int{32, 64} {
						for range 3 {
							password := randomBytes(t, rng, rng.IntN(40))
							salt := randomBytes(t, rng, rng.IntN(40))
							checkSameAsReference(t, password, salt, n, r, 1, keyLen, tableBytes)
						}
					}
				})
			}
		}
	}
	t.Run("p=2", func(t *testing.T) {
		for _, stride := range []int{1, 4} {
			checkSameAsReference(t, []byte("pw"), []byte("salt"), 256, 4, 2, 48, uint64(256/stride)*128*4)
		}
	})
	t.Run("odd key length", func(t *testing.T) {
		checkSameAsReference(t, []byte("pw"), []byte("salt"), 64, 2, 1, 33, 64*128*2/4)
	})
}

// TestScryptKeyMatchesReferenceLarge covers the parameters of key files with the default table
// bound (strides 4 and 8).
func TestScryptKeyMatchesReferenceLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("full-size scrypt")
	}
	rng := rand.New(rand.NewChaCha8([32]byte{'l', 'a', 'r', 'g', 'e'}))
	for _, n := range []int{1 << 15, 1 << 16} {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			checkSameAsReference(t, randomBytes(t, rng, 12), randomBytes(t, rng, 32), n, 8, 1, 32, scryptTableBytes)
		})
	}
}

// TestScryptKeyKnownAnswer checks the test vectors of RFC 7914, section 12, that are cheap enough
// for a unit test, so the comparison above does not rest on x/crypto alone.
func TestScryptKeyKnownAnswer(t *testing.T) {
	tests := []struct {
		password, salt string
		n, r, p        int
		want           string
	}{
		{"", "", 16, 1, 1, "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"},
		{"password", "NaCl", 1024, 8, 16, "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("N=%d r=%d p=%d", tc.n, tc.r, tc.p), func(t *testing.T) {
			for _, tableBytes := range []uint64{scryptTableBytes, uint64(tc.n) * 128 * uint64(tc.r) / 4} {
				got, err := scryptKeyWithTable([]byte(tc.password), []byte(tc.salt), tc.n, tc.r, tc.p, 64, tableBytes)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprintf("%x", got) != tc.want {
					t.Fatalf("table %d: got %x, want %s", tableBytes, got, tc.want)
				}
			}
		})
	}
}

// allocatedBy returns the bytes allocated on the heap while f ran.
func allocatedBy(t *testing.T, f func()) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestScryptKeyMemory checks that deriving a key with cosign's parameters (N=2^16, r=8, where a
// full table is 64 MiB) allocates little more than the 8 MiB table.
func TestScryptKeyMemory(t *testing.T) {
	var key []byte
	var err error
	grew := allocatedBy(t, func() {
		key, err = scryptKey([]byte("password"), []byte("salt of thirty-two bytes, random"), 1<<16, 8, 1, 32)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 {
		t.Fatalf("key of %d bytes", len(key))
	}
	const limit = 9 << 20
	if grew > limit {
		t.Fatalf("scryptKey(N=2^16, r=8) allocated %d bytes, more than %d", grew, limit)
	}
	t.Logf("scryptKey(N=2^16, r=8) allocated %d bytes", grew)
}

func TestScryptKeyBadParameters(t *testing.T) {
	tests := []struct {
		name            string
		n, r, p, keyLen int
		want            string
	}{
		{"N zero", 0, 8, 1, 32, "N=0 is not a power of two greater than 1"},
		{"N one", 1, 8, 1, 32, "N=1 is not a power of two"},
		{"N not a power of two", 1000, 8, 1, 32, "N=1000 is not a power of two"},
		{"N negative", -16, 8, 1, 32, "N=-16 is not a power of two"},
		{"r zero", 16, 0, 1, 32, "r=0 and p=1 must be positive"},
		{"p negative", 16, 8, -1, 32, "r=8 and p=-1 must be positive"},
		{"r*p too large", 16, 1 << 15, 1 << 15, 32, "r*p=1073741824 is not below 2^30"},
		{"state too large", 16, 1 << 24, 1, 32, "parameters N=16 r=16777216 p=1 are too large"},
		{"N too large", 1 << 33, 1, 1, 32, "parameters N=8589934592 r=1 p=1 are too large"},
		{"key length zero", 16, 8, 1, 0, "key length 0 must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, err := scryptKey([]byte("pw"), []byte("salt"), tc.n, tc.r, tc.p, tc.keyLen)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if key != nil {
				t.Fatal("key returned with an error")
			}
		})
	}
}

// BenchmarkDeriveKey derives a key with the parameters cosign writes (N=2^16, r=8, p=1).
func BenchmarkDeriveKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scryptKey([]byte("password"), []byte("salt"), 1<<16, 8, 1, 32); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeriveKeyXCrypto is the same derivation with x/crypto's full-table scrypt.
func BenchmarkDeriveKeyXCrypto(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scrypt.Key([]byte("password"), []byte("salt"), 1<<16, 8, 1, 32); err != nil {
			b.Fatal(err)
		}
	}
}
