package rekortypes

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

// TestBoundedMemory: what Canonicalize allocates is a small multiple of its input, however the
// input is shaped, and an input over the limit is refused before it is decoded.
func TestBoundedMemory(t *testing.T) {
	const size = 4 << 20
	artifact := bytes.Repeat([]byte("a"), size)
	big, _ := ProposeRekord("ssh", artifact, testdata(t, "ssh_ed25519.sig"), testdata(t, "ssh_ed25519.pub"))
	nested := []byte(`{"kind":"rekord","apiVersion":"0.0.1","spec":` + strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000) + `}`)
	wide := []byte(`{"kind":"rekord","apiVersion":"0.0.1","spec":{"data":[` + strings.Repeat(`"",`, size/3) + `""]}}`)
	for name, c := range map[string]struct {
		in    []byte
		limit int64
		max   uint64
	}{
		"artifact of 4 MiB":           {big, 0, 16 * size},
		"deep nesting":                {nested, 0, 1 << 16},
		"a million strings":           {wide, 0, 1 << 16},
		"over the limit, not decoded": {big, 1 << 20, 1 << 16},
	} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := Canonicalize(c.in, Limits{MaxBody: c.limit})
			runtime.ReadMemStats(&after)
			want := map[string]string{
				"artifact of 4 MiB":           "signature does not verify",
				"deep nesting":                "nests deeper than 32 levels",
				"a million strings":           "has more than 4096 JSON values",
				"over the limit, not decoded": "exceeds the limit of 1048576",
			}[name]
			mustInvalid(t, err, want)
			if got := after.TotalAlloc - before.TotalAlloc; got > c.max {
				t.Fatalf("allocated %d bytes for a %d-byte input (bound %d)", got, len(c.in), c.max)
			} else {
				t.Logf("%d-byte input: %d bytes allocated (%v)", len(c.in), got, err)
			}
		})
	}
}
