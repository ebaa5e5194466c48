package logclient

import (
	"errors"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// FuzzDescribeEntry checks the monitor's reading of entries it finds in a log: any body either
// describes or fails with the entry parser's error, without panicking.
func FuzzDescribeEntry(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"AQID"},"signature":{"content":"BAU=","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":"Bg=="}}}}}}`))
	f.Add([]byte(`{"kind":"dsse"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := DescribeEntry(7, body)
		if err != nil {
			if _, perr := tlog.ParseHashedRekordEntry(body); perr != nil && !errors.Is(err, tlog.ErrInvalidRequest) {
				t.Fatalf("error outside ErrInvalidRequest for an unparsable entry: %v", err)
			}
			return
		}
		if m.Index != 7 || m.Entry == nil {
			t.Fatalf("described entry %+v", m)
		}
	})
}
