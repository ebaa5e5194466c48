package cosign

import (
	"context"
	"errors"
	"fmt"

	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// ErrNoTransparencyLog is returned when a signature is to be logged and no log is configured.
var ErrNoTransparencyLog = errors.New("no transparency log configured")

// SigningSetup says where a signature's certificate, timestamp and log entry come from: a signing
// config's services, each replaced by an explicit URL where one is given, and the trusted root
// the log's answers are checked against.
type SigningSetup struct {
	// SigningConfig holds the services selected from a signing config; nil means none.
	SigningConfig *root.SigningConfig
	// CAURL, TSAURL, RekorURL and OIDCURL, when set, replace the signing config's.
	CAURL, TSAURL, RekorURL, OIDCURL string
	// RekorAPIVersion is the major API version of RekorURL's log (1 or 2); zero takes the
	// signing config's version of that URL, else 2.
	RekorAPIVersion uint32
	// Upload asks for a transparency log entry; the log's URL is then required.
	Upload bool
	// TrustedRoot, when set, supplies the log's keys: each entry the log returns must carry an
	// inclusion proof under a checkpoint they verify, consistent with the one kept in StateDir.
	TrustedRoot *root.TrustedRoot
	// StateDir is where the last verified checkpoint of each log is kept (with TrustedRoot).
	StateDir string
}

// Services returns the services this setup signs with: the signing config's, overridden.
func (s *SigningSetup) Services() root.SigningConfig {
	var out root.SigningConfig
	if s.SigningConfig != nil {
		out = *s.SigningConfig
	}
	for _, o := range []struct {
		dst *string
		v   string
	}{
		{&out.CAURL, s.CAURL}, {&out.TSAURL, s.TSAURL}, {&out.RekorURL, s.RekorURL}, {&out.OIDCURL, s.OIDCURL},
	} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
	return out
}

// RekorLog returns the log this setup writes to and its major API version: an explicit RekorURL
// (of RekorAPIVersion, else of the version the signing config gives it, else 2), or the signing
// config's log of the highest API version it lists (2, then 1), as cosign selects.
func (s *SigningSetup) RekorLog() (string, uint32) {
	var sc root.SigningConfig
	if s.SigningConfig != nil {
		sc = *s.SigningConfig
	}
	switch {
	case s.RekorURL != "" && s.RekorAPIVersion != 0:
		return s.RekorURL, s.RekorAPIVersion
	case s.RekorURL != "" && s.RekorURL == sc.RekorV1URL && s.RekorURL != sc.RekorURL:
		return s.RekorURL, 1
	case s.RekorURL != "":
		return s.RekorURL, 2
	case sc.RekorURL != "":
		return sc.RekorURL, 2
	case sc.RekorV1URL != "":
		return sc.RekorV1URL, 1
	}
	return "", 0
}

// BundleOptions returns what a signature made with this setup carries besides the signer's key:
// a timestamp when a timestamp authority is configured, a log entry when Upload. It returns nil
// when it carries neither.
func (s *SigningSetup) BundleOptions() (*BundleOptions, error) {
	services := s.Services()
	opts := &BundleOptions{TSAURL: services.TSAURL}
	if s.Upload {
		url, version := s.RekorLog()
		if url == "" {
			return nil, ErrNoTransparencyLog
		}
		opts.RekorURL, opts.RekorV1 = url, version == 1
		if s.TrustedRoot != nil {
			keys, err := s.TrustedRoot.LogKeys(opts.RekorURL)
			if err != nil {
				return nil, fmt.Errorf("trusted root: %w", err)
			}
			opts.LogKeys, opts.StateDir = keys, s.StateDir
		}
	}
	if opts.RekorURL == "" && opts.TSAURL == "" {
		return nil, nil
	}
	return opts, nil
}

// KeylessSigner makes an ephemeral key and trades idToken for a certificate at the setup's CA. It
// returns the signer and bundle options that carry the certificate chain, a timestamp (required:
// the certificate lives ten minutes, and only a timestamp shows it was valid when used) and, with
// Upload, a log entry.
func (s *SigningSetup) KeylessSigner(ctx context.Context, idToken string) (signer.Signer, *BundleOptions, error) {
	opts, err := s.BundleOptions()
	if err != nil {
		return nil, nil, err
	}
	if !opts.HasSigningTime() {
		return nil, nil, ErrNoTimestampAuthority
	}
	sig, chain, err := Keyless(ctx, s.Services().CAURL, idToken)
	if err != nil {
		return nil, nil, err
	}
	opts.Chain = chain
	return sig, opts, nil
}
