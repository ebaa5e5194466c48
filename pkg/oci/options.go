package oci

import (
	"crypto/tls"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/cosign-like/cosign-like/internal/netutil"
)

// Option configures registry access. Options are applied over the defaults set in one place,
// makeOptions.
type Option func(*options)

// ReferrersMode selects how bundles are attached to and discovered beside an image.
type ReferrersMode string

const (
	// ReferrersAuto writes with the OCI 1.1 referrers API and falls back to the referrers tag
	// schema when the registry does not acknowledge the subject (no OCI-Subject header); it
	// reads with the referrers API and falls back to the tag schema when the API answers 404.
	ReferrersAuto ReferrersMode = "auto"
	// ReferrersOCI11 uses only the OCI 1.1 referrers API.
	ReferrersOCI11 ReferrersMode = "oci-1-1"
	// ReferrersLegacy uses only the referrers tag schema (an index at tag sha256-<hex>).
	ReferrersLegacy ReferrersMode = "legacy"
)

// ParseReferrersMode parses the --registry-referrers-mode flag value.
func ParseReferrersMode(s string) (ReferrersMode, error) {
	switch m := ReferrersMode(s); m {
	case ReferrersAuto, ReferrersOCI11, ReferrersLegacy:
		return m, nil
	}
	return "", &InvalidInputError{What: "referrers mode", Value: s, Reason: "want auto, oci-1-1 or legacy"}
}

// LegacyLookup selects when ListAttached reads cosign's legacy .sig/.att/.sbom tags.
type LegacyLookup string

const (
	// LegacyAlways always reads the legacy tags of the requested kinds (for tree, download, clean).
	LegacyAlways LegacyLookup = "always"
	// LegacyIfNoBundles reads the legacy tags of the requested kinds only when no bundle of those
	// kinds is attached (as cosign v3 verify falls back to the legacy layout).
	LegacyIfNoBundles LegacyLookup = "if-no-bundles"
	// LegacyNever never reads legacy tags.
	LegacyNever LegacyLookup = "never"
)

// Limits bounds what is read from a registry. A zero field means the default.
type Limits struct {
	// MaxArtifacts is the most attached artifacts considered per image (default 100).
	MaxArtifacts int
	// MaxLayers is the most layers (or index entries) a manifest may declare (default 1000).
	MaxLayers int
	// MaxBlobSize is the largest blob fetched, judged by its descriptor before it is requested
	// (default 128 MiB).
	MaxBlobSize int64
	// MaxManifestSize is the largest manifest or index read (default 4 MiB, distribution's limit).
	MaxManifestSize int64
}

// Default limits.
const (
	DefaultMaxArtifacts    = 100
	DefaultMaxLayers       = 1000
	DefaultMaxBlobSize     = 128 << 20
	DefaultMaxManifestSize = 4 << 20
)

// Retry configures retries of requests that fail with a network error, 429 or 5xx.
type Retry struct {
	// Attempts is the total number of attempts (default 4; 1 disables retries).
	Attempts int
	// Backoff is the delay before the first retry; each later one doubles it (default 200ms).
	Backoff time.Duration
	// StatusCodes are the HTTP statuses retried (default 408, 429, 500, 502, 503, 504).
	StatusCodes []int
}

type options struct {
	keychain      authn.Keychain
	auth          authn.Authenticator
	insecure      bool
	plainHTTP     bool
	transport     http.RoundTripper
	idleTimeout   time.Duration
	referrersMode ReferrersMode
	legacyLookup  LegacyLookup
	limits        Limits
	retry         Retry
	concurrency   int
	userAgent     string
	now           func() time.Time
	confirmDelay  time.Duration
	authCache     *AuthCache
	tagPrefix     string
}

// WithAuth resolves credentials from kc (default authn.DefaultKeychain: the Docker config file
// and its credential helpers).
func WithAuth(kc authn.Keychain) Option { return func(o *options) { o.keychain = kc } }

// WithBasicAuth uses the given username and password for every registry (default: none, the
// keychain decides).
func WithBasicAuth(user, pass string) Option {
	return func(o *options) { o.auth = &authn.Basic{Username: user, Password: pass} }
}

// WithAuthenticator uses a for every registry (default: none, the keychain decides).
func WithAuthenticator(a authn.Authenticator) Option { return func(o *options) { o.auth = a } }

// WithInsecure skips TLS certificate verification (default false).
func WithInsecure(b bool) Option { return func(o *options) { o.insecure = b } }

// WithPlainHTTP talks plain HTTP to the registry (default false: HTTPS, except to loopback
// addresses, which are reached over HTTP as go-containerregistry does unless WithInsecure
// asks for TLS without verification).
func WithPlainHTTP(b bool) Option { return func(o *options) { o.plainHTTP = b } }

// WithTransport sends requests through t (default: a clone of http.DefaultTransport whose
// dials, TLS handshakes and waits for response headers give up after the idle timeout). The
// idle timeout bounds requests sent through t too.
func WithTransport(t http.RoundTripper) Option { return func(o *options) { o.transport = t } }

// WithIdleTimeout cancels a request that makes no progress for d: connecting, sending,
// waiting for the response headers, or within one read of a response body (default 30s).
// The context bounds the whole call, retries and their waits included.
func WithIdleTimeout(d time.Duration) Option { return func(o *options) { o.idleTimeout = d } }

// WithReferrersMode selects the referrers path (default ReferrersAuto).
func WithReferrersMode(m ReferrersMode) Option { return func(o *options) { o.referrersMode = m } }

// WithLegacyLookup selects when ListAttached reads legacy tags (default LegacyAlways).
func WithLegacyLookup(l LegacyLookup) Option { return func(o *options) { o.legacyLookup = l } }

// WithLimits bounds counts and sizes read (default: DefaultMaxArtifacts, DefaultMaxLayers,
// DefaultMaxBlobSize, DefaultMaxManifestSize); zero fields keep their default.
func WithLimits(l Limits) Option { return func(o *options) { o.limits = l } }

// WithRetry configures retries with exponential backoff (default: 4 attempts, 200ms first delay,
// on 408, 429, 500, 502, 503, 504 and network errors); zero fields keep their default. A wait
// that the context's deadline would cut short is not begun: the call fails at once.
func WithRetry(r Retry) Option { return func(o *options) { o.retry = r } }

// WithConcurrency sets how many artifacts are fetched at once (default 8).
func WithConcurrency(n int) Option { return func(o *options) { o.concurrency = n } }

// WithUserAgent sets the User-Agent header (default "cosign-like").
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithClock sets the clock used for the org.opencontainers.image.created annotation
// (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithConfirmDelay sets the longest random delay before the second confirming read of the
// referrers tag index (default 500ms).
func WithConfirmDelay(d time.Duration) Option { return func(o *options) { o.confirmDelay = d } }

// WithAuthCache shares answered authentication challenges and tokens across calls (default:
// none, each call authenticates afresh).
func WithAuthCache(a *AuthCache) Option { return func(o *options) { o.authCache = a } }

// WithLegacyTagPrefix reads cosign's legacy tags with a prefix, <prefix>sha256-<hex>.sig
// (default: none), as signatures kept under a prefix are found; it applies to ListAttached.
func WithLegacyTagPrefix(p string) Option { return func(o *options) { o.tagPrefix = p } }

func makeOptions(opts []Option) *options {
	o := &options{}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	if o.keychain == nil {
		o.keychain = authn.DefaultKeychain
	}
	if o.referrersMode == "" {
		o.referrersMode = ReferrersAuto
	}
	if o.legacyLookup == "" {
		o.legacyLookup = LegacyAlways
	}
	if o.limits.MaxArtifacts <= 0 {
		o.limits.MaxArtifacts = DefaultMaxArtifacts
	}
	if o.limits.MaxLayers <= 0 {
		o.limits.MaxLayers = DefaultMaxLayers
	}
	if o.limits.MaxBlobSize <= 0 {
		o.limits.MaxBlobSize = DefaultMaxBlobSize
	}
	if o.limits.MaxManifestSize <= 0 {
		o.limits.MaxManifestSize = DefaultMaxManifestSize
	}
	if o.retry.Attempts <= 0 {
		o.retry.Attempts = 4
	}
	if o.retry.Backoff <= 0 {
		o.retry.Backoff = 200 * time.Millisecond
	}
	if len(o.retry.StatusCodes) == 0 {
		o.retry.StatusCodes = []int{http.StatusRequestTimeout, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable,
			http.StatusGatewayTimeout}
	}
	if o.concurrency <= 0 {
		o.concurrency = 8
	}
	if o.userAgent == "" {
		o.userAgent = "cosign-like"
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.confirmDelay <= 0 {
		o.confirmDelay = 500 * time.Millisecond
	}
	if o.idleTimeout <= 0 {
		o.idleTimeout = netutil.DefaultIdleTimeout
	}
	if o.transport == nil {
		t := netutil.NewTransport(o.idleTimeout)
		t.MaxIdleConnsPerHost = 16
		if o.insecure {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it
		}
		o.transport = t
	} else if o.insecure {
		if t, ok := o.transport.(*http.Transport); ok {
			t = t.Clone()
			if t.TLSClientConfig == nil {
				t.TLSClientConfig = &tls.Config{}
			}
			t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // the user asked for it
			o.transport = t
		}
	}
	// A registry that stops answering, or answers a byte at a time, must not hang a call.
	o.transport = netutil.Bound(o.transport, o.idleTimeout)
	return o
}
