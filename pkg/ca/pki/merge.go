package pki

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
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

// SigningConfigOptions are the service URLs of a signing config. Each list may be empty.
type SigningConfigOptions struct {
	// CAURLs are Fulcio-compatible CA base URLs.
	CAURLs []string
	// OIDCURLs are OpenID provider (issuer) URLs.
	OIDCURLs []string
	// RekorURLs are Rekor v2 log base URLs.
	RekorURLs []string
	// TSAURLs are full RFC 3161 timestamp URLs (…/api/v1/timestamp).
	TSAURLs []string
	// Operator names who runs the services ("cosign-like" by default).
	Operator string
	// Start is when the services become valid (one minute ago by default).
	Start time.Time
}

// NewSigningConfig builds a signing config (media type SigningConfigMediaType) as indented
// JSON: CA and TSA services with major API version 1, Rekor logs with version 2, and the
// selectors ANY for logs and TSAs.
func NewSigningConfig(o SigningConfigOptions) ([]byte, error) {
	if o.Operator == "" {
		o.Operator = "cosign-like"
	}
	if o.Start.IsZero() {
		o.Start = time.Now().Add(-time.Minute)
	}
	services := func(kind string, urls []string, version uint32) ([]*prototrustroot.Service, error) {
		var out []*prototrustroot.Service
		for _, raw := range urls {
			u, err := url.Parse(raw)
			if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
				return nil, fmt.Errorf("%s URL %q: want an absolute http(s) URL", kind, raw)
			}
			out = append(out, &prototrustroot.Service{Url: raw, MajorApiVersion: version, Operator: o.Operator,
				ValidFor: &protocommon.TimeRange{Start: timestamppb.New(o.Start)}})
		}
		return out, nil
	}
	sc := &prototrustroot.SigningConfig{MediaType: SigningConfigMediaType}
	var err error
	if sc.CaUrls, err = services("CA", o.CAURLs, 1); err != nil {
		return nil, err
	}
	if sc.OidcUrls, err = services("OIDC", o.OIDCURLs, 1); err != nil {
		return nil, err
	}
	if sc.RekorTlogUrls, err = services("Rekor", o.RekorURLs, 2); err != nil {
		return nil, err
	}
	if sc.TsaUrls, err = services("TSA", o.TSAURLs, 1); err != nil {
		return nil, err
	}
	sc.RekorTlogConfig = &prototrustroot.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY}
	sc.TsaConfig = &prototrustroot.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY}
	data, err := protojson.Marshal(sc)
	if err != nil {
		return nil, fmt.Errorf("encoding signing config: %w", err)
	}
	return stableJSON(data)
}
