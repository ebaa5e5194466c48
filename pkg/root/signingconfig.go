package root

import (
	"fmt"
	"net/url"
	"os"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// maxSigningConfig bounds a signing config file.
const maxSigningConfig = 1 << 20

// SigningConfig holds the services a signing config selects for signing at a given time: one
// URL per kind of service, empty where the config lists none this client can use.
type SigningConfig struct {
	// CAURL is the Fulcio-compatible CA's base URL.
	CAURL string
	// OIDCURL is the OpenID provider's issuer URL.
	OIDCURL string
	// RekorURL is the Rekor v2-compatible log's base URL: what this client signs with.
	RekorURL string
	// RekorV1URL is the base URL of a log serving the Rekor v1 API (majorApiVersion 1), for
	// the commands that speak it.
	RekorV1URL string
	// TSAURL is the timestamp authority's full timestamp URL.
	TSAURL string
}

// Supported major API versions of each service.
const (
	caAPIVersion    = 1
	oidcAPIVersion  = 1
	rekorAPIVersion = 2
	rekorV1Version  = 1
	tsaAPIVersion   = 1
)

// ParseSigningConfig reads a signing config (application/vnd.dev.sigstore.signingconfig.v0.2+json)
// and selects, for each service, the first one valid at now whose API version this client speaks.
func ParseSigningConfig(data []byte, now time.Time) (*SigningConfig, error) {
	if len(data) > maxSigningConfig {
		return nil, fmt.Errorf("signing config is larger than %d bytes", maxSigningConfig)
	}
	var sc prototrustroot.SigningConfig
	if err := protojson.Unmarshal(data, &sc); err != nil {
		return nil, fmt.Errorf("signing config: %w", err)
	}
	if sc.GetMediaType() != SigningConfigMediaType {
		return nil, fmt.Errorf("signing config media type %q: want %s", sc.GetMediaType(), SigningConfigMediaType)
	}
	return &SigningConfig{
		CAURL:      selectService(sc.GetCaUrls(), caAPIVersion, now),
		OIDCURL:    selectService(sc.GetOidcUrls(), oidcAPIVersion, now),
		RekorURL:   selectService(sc.GetRekorTlogUrls(), rekorAPIVersion, now),
		RekorV1URL: selectService(sc.GetRekorTlogUrls(), rekorV1Version, now),
		TSAURL:     selectService(sc.GetTsaUrls(), tsaAPIVersion, now),
	}, nil
}

// LoadSigningConfig reads a signing config file; see ParseSigningConfig.
func LoadSigningConfig(path string, now time.Time) (*SigningConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the signing config: %w", err)
	}
	s, err := ParseSigningConfig(data, now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func selectService(services []*prototrustroot.Service, apiVersion uint32, now time.Time) string {
	for _, s := range services {
		if s.GetMajorApiVersion() != apiVersion || s.GetUrl() == "" {
			continue
		}
		if vf := s.GetValidFor(); vf != nil {
			if st := vf.GetStart(); st != nil && now.Before(st.AsTime()) {
				continue
			}
			if e := vf.GetEnd(); e != nil && !now.Before(e.AsTime()) {
				continue
			}
		}
		return s.GetUrl()
	}
	return ""
}

// SigningConfigOptions are the service URLs of a signing config. Each list may be empty.
type SigningConfigOptions struct {
	// CAURLs are Fulcio-compatible CA base URLs.
	CAURLs []string
	// OIDCURLs are OpenID provider (issuer) URLs.
	OIDCURLs []string
	// RekorURLs are Rekor v2 log base URLs.
	RekorURLs []string
	// RekorV1URLs are base URLs of logs serving the Rekor v1 API (this project's logs serve both
	// at the same URL).
	RekorV1URLs []string
	// TSAURLs are full RFC 3161 timestamp URLs (…/api/v1/timestamp).
	TSAURLs []string
	// Operator names who runs the services ("cosign-like" by default).
	Operator string
	// Start is when the services become valid (one minute ago by default).
	Start time.Time
}

// NewSigningConfig builds a signing config (media type SigningConfigMediaType) as indented
// JSON: CA and TSA services with major API version 1, Rekor logs with version 2 (RekorURLs)
// followed by those with version 1 (RekorV1URLs), and the selectors ANY for logs and TSAs.
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
	if sc.CaUrls, err = services("CA", o.CAURLs, caAPIVersion); err != nil {
		return nil, err
	}
	if sc.OidcUrls, err = services("OIDC", o.OIDCURLs, oidcAPIVersion); err != nil {
		return nil, err
	}
	if sc.RekorTlogUrls, err = services("Rekor", o.RekorURLs, rekorAPIVersion); err != nil {
		return nil, err
	}
	v1, err := services("Rekor v1", o.RekorV1URLs, rekorV1Version)
	if err != nil {
		return nil, err
	}
	sc.RekorTlogUrls = append(sc.RekorTlogUrls, v1...)
	if sc.TsaUrls, err = services("TSA", o.TSAURLs, tsaAPIVersion); err != nil {
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
