package cosign

import (
	"errors"
	"fmt"
	"os"
	"time"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// SigningConfigMediaType is the media type of the signing configs this client reads.
const SigningConfigMediaType = "application/vnd.dev.sigstore.signingconfig.v0.2+json"

// maxSigningConfig bounds a signing config file.
const maxSigningConfig = 1 << 20

// Services are the URLs a signing config selects for signing now.
type Services struct {
	// CAURL is the Fulcio-compatible CA's base URL.
	CAURL string
	// OIDCURL is the OpenID provider's issuer URL.
	OIDCURL string
	// RekorURL is the Rekor v2-compatible log's base URL.
	RekorURL string
	// TSAURL is the timestamp authority's full timestamp URL.
	TSAURL string
}

// Supported major API versions of each service.
const (
	caAPIVersion    = 1
	oidcAPIVersion  = 1
	rekorAPIVersion = 2
	tsaAPIVersion   = 1
)

// ParseSigningConfig reads a signing config (application/vnd.dev.sigstore.signingconfig.v0.2+json)
// and selects, for each service, the first one valid at now whose API version this client speaks.
func ParseSigningConfig(data []byte, now time.Time) (*Services, error) {
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
	return &Services{
		CAURL:    selectService(sc.GetCaUrls(), caAPIVersion, now),
		OIDCURL:  selectService(sc.GetOidcUrls(), oidcAPIVersion, now),
		RekorURL: selectService(sc.GetRekorTlogUrls(), rekorAPIVersion, now),
		TSAURL:   selectService(sc.GetTsaUrls(), tsaAPIVersion, now),
	}, nil
}

// LoadSigningConfig reads a signing config file; see ParseSigningConfig.
func LoadSigningConfig(path string, now time.Time) (*Services, error) {
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

// ErrNoTimestampAuthority is returned when keyless signing has no timestamp authority: the
// certificate lives ten minutes and a tile-based log gives no time, so without a timestamp
// nobody could tell that the signature was made while the certificate was valid.
var ErrNoTimestampAuthority = errors.New("keyless signing needs a timestamp authority: pass --timestamp-server-url or a signing config that lists one")
