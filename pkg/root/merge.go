package root

import (
	"errors"
	"fmt"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/proto"
)

// MergeTrustedRoots combines trusted-root parts (each a trusted root JSON document, such as the
// trusted_root.json files that ca, ct, tsa and log init write) into one trusted root. Entries
// that appear in several parts are kept once. A part with another media type is an error.
func MergeTrustedRoots(parts ...[]byte) ([]byte, error) {
	if len(parts) == 0 {
		return nil, errors.New("merging trusted roots: no parts given")
	}
	out := &prototrustroot.TrustedRoot{}
	for i, data := range parts {
		tr, err := UnmarshalTrustedRoot(data)
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", i+1, err)
		}
		out.Tlogs = appendUnique(out.Tlogs, tr.Tlogs)
		out.Ctlogs = appendUnique(out.Ctlogs, tr.Ctlogs)
		out.CertificateAuthorities = appendUnique(out.CertificateAuthorities, tr.CertificateAuthorities)
		out.TimestampAuthorities = appendUnique(out.TimestampAuthorities, tr.TimestampAuthorities)
	}
	return MarshalTrustedRoot(out)
}

func appendUnique[T proto.Message](have, add []T) []T {
next:
	for _, a := range add {
		for _, h := range have {
			if proto.Equal(h, a) {
				continue next
			}
		}
		have = append(have, a)
	}
	return have
}
