package logclient

import (
	"errors"
	"strings"
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

// FuzzDecodeV1Entries checks the reading of Rekor v1 answers: any answer decodes into entries
// whose UUIDs end in their bodies' leaf hashes, or fails with ErrBadResponse.
func FuzzDecodeV1Entries(f *testing.F) {
	f.Add([]byte(`{"24296fb24b8ad77a3ad1f2b9d8b9bff69b2d3f3b1d7c6f3e8a0b3d3c5f6e7a8b9c":{"body":"e30=","integratedTime":1,"logID":"00","logIndex":0,"verification":{"inclusionProof":{"checkpoint":"x","hashes":["00"],"logIndex":0,"rootHash":"00","treeSize":1},"signedEntryTimestamp":"AA=="}}}`))
	f.Add([]byte(`{"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a":{"body":"e30="}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		es, err := decodeV1Entries(raw)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("error outside ErrBadResponse: %v", err)
			}
			return
		}
		for _, e := range es {
			if !strings.HasSuffix(strings.ToLower(e.UUID), e.LeafHashHex()) {
				t.Fatalf("entry %s decoded with leaf hash %s", e.UUID, e.LeafHashHex())
			}
		}
	})
}
