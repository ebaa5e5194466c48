package tlog

import (
	"errors"
	"strings"
	"testing"
)

func TestParseV1EntryUUID(t *testing.T) {
	leaf := strings.Repeat("ab", 32)
	for _, c := range []struct {
		in     string
		treeID int64
		bad    bool
	}{
		{leaf, 0, false},
		{"00000000000004d2" + leaf, 1234, false},
		{"0000000000000000" + leaf, 0, true}, // tree ID 0
		{"8000000000000000" + leaf, 0, true}, // beyond int64
		{leaf[:63], 0, true},
		{strings.Repeat("zz", 32), 0, true},
		{"", 0, true},
	} {
		id, h, err := ParseV1EntryUUID(c.in)
		if c.bad {
			if !errors.Is(err, ErrBadV1UUID) {
				t.Errorf("%q: %v, want ErrBadV1UUID", c.in, err)
			}
			continue
		}
		if err != nil || id != c.treeID || len(h) != 32 {
			t.Errorf("%q: tree %d, %d-byte hash, %v; want tree %d", c.in, id, len(h), err, c.treeID)
		}
		if c.treeID != 0 && V1EntryUUID(id, h) != c.in {
			t.Errorf("V1EntryUUID does not give %q back", c.in)
		}
	}
}

func FuzzParseV1EntryUUID(f *testing.F) {
	f.Add(strings.Repeat("0", 80))
	f.Add(strings.Repeat("a", 64))
	f.Fuzz(func(t *testing.T, s string) {
		id, h, err := ParseV1EntryUUID(s)
		if err != nil {
			return
		}
		if len(h) != 32 || id < 0 {
			t.Fatalf("%q: tree %d, %d-byte hash", s, id, len(h))
		}
		if id != 0 && !strings.EqualFold(V1EntryUUID(id, h), s) {
			t.Fatalf("%q does not round-trip", s)
		}
	})
}
