package tuf

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"github.com/cosign-like/cosign-like/pkg/root"
)

// Targets the client fetches.
const (
	// TrustedRootTarget is the target holding the Sigstore trusted root.
	TrustedRootTarget = "trusted_root.json"
	// SigningConfigTarget is the target holding the Sigstore signing config (v0.2).
	SigningConfigTarget = "signing_config.v0.2.json"
)

// Size limits on what the client downloads.
const (
	maxRootSize      = 512 << 10
	maxTimestampSize = 16 << 10
	maxSnapshotSize  = 1 << 20
	maxTargetsSize   = 4 << 20
	maxRootRotations = 64
	maxRemoteFile    = 4 << 10
	remoteFile       = "remote.json"
)

// DefaultCacheDir returns where the TUF cache lives: $COSIGN_LIKE_HOME/tuf, or
// ~/.cosign-like/tuf when COSIGN_LIKE_HOME is unset. Each mirror gets its own subdirectory.
func DefaultCacheDir() (string, error) {
	if home := os.Getenv("COSIGN_LIKE_HOME"); home != "" {
		return filepath.Join(home, "tuf"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the TUF cache directory: %w (set COSIGN_LIKE_HOME)", err)
	}
	return filepath.Join(home, ".cosign-like", "tuf"), nil
}

// InitOptions configure Initialize.
type InitOptions struct {
	// Mirror is the base URL of the TUF repository (http or https).
	Mirror string
	// Root is the initial trusted root.json, obtained out of band.
	Root []byte
	// RootChecksum, when set, is the hex SHA-256 of Root (optionally prefixed "sha256:");
	// Initialize refuses a root with another digest.
	RootChecksum string
	// CacheDir is the cache directory (default DefaultCacheDir()).
	CacheDir string
	// HTTPClient makes the requests (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	// IdleTimeout cancels a request that makes no progress for this long: connecting, sending,
	// waiting for the response headers, or within one read of the body (default 30 s). It
	// bounds the requests of HTTPClient too.
	IdleTimeout time.Duration
	// Now is the clock for expiry checks (default time.Now).
	Now func() time.Time
}

// LoadOptions configure Load.
type LoadOptions struct {
	// Mirror is the base URL of the TUF repository (default: the one Initialize used last).
	Mirror string
	// CacheDir is the cache directory (default DefaultCacheDir()).
	CacheDir string
	// Offline uses only the cache and never touches the network. It fails with ErrNoCache when
	// the cache is missing and with ErrCacheExpired when its metadata expired.
	Offline bool
	// HTTPClient makes the requests (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	// IdleTimeout cancels a request that makes no progress for this long: connecting, sending,
	// waiting for the response headers, or within one read of the body (default 30 s). It
	// bounds the requests of HTTPClient too.
	IdleTimeout time.Duration
	// Now is the clock for expiry checks (default time.Now).
	Now func() time.Time
	// OnCacheFallback, when set, is told when the mirror could not be reached and the unexpired
	// cache was used instead. Verification failures never fall back.
	OnCacheFallback func(err error)
}

// remoteRecord is remote.json in the cache directory: the mirror Initialize used last.
type remoteRecord struct {
	Mirror string `json:"mirror"`
}

// parseRemoteRecord decodes remote.json and checks the mirror URL it names.
func parseRemoteRecord(data []byte) (string, error) {
	var r remoteRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return "", fmt.Errorf("decoding %s: %w", remoteFile, err)
	}
	m, err := normalizeMirror(r.Mirror)
	if err != nil {
		return "", fmt.Errorf("%s: %w", remoteFile, err)
	}
	return m, nil
}

// normalizeMirror checks a mirror URL (http or https, a host, no credentials, query or
// fragment) and drops trailing slashes.
func normalizeMirror(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("%w: no TUF mirror URL given", ErrBadOption)
	}
	if len(raw) > 2048 {
		return "", fmt.Errorf("%w: TUF mirror URL is %d characters long", ErrBadOption, len(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: TUF mirror URL %q: %w", ErrBadOption, raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%w: TUF mirror URL %q: scheme must be http or https", ErrBadOption, raw)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("%w: TUF mirror URL %q: want scheme://host[:port][/path] without credentials, query or fragment", ErrBadOption, raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// mirrorDir is the cache subdirectory of one mirror.
func mirrorDir(cacheDir, mirror string) string {
	sum := sha256.Sum256([]byte(mirror))
	return filepath.Join(cacheDir, hex.EncodeToString(sum[:16]))
}

// checkRootChecksum compares the SHA-256 of root with a hex checksum.
func checkRootChecksum(root []byte, want string) error {
	want = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(want), "sha256:"))
	if len(want) != 64 {
		return fmt.Errorf("%w: checksum %q is not 64 hex digits of SHA-256", ErrBadOption, want)
	}
	if _, err := hex.DecodeString(want); err != nil {
		return fmt.Errorf("%w: checksum %q is not hex", ErrBadOption, want)
	}
	sum := sha256.Sum256(root)
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("%w: want sha256 %s, root has %s", ErrRootChecksum, want, got)
	}
	return nil
}

// client is one Initialize or Load call.
type client struct {
	mirror string
	dir    string // the mirror's cache directory
	http   *http.Client
	now    func() time.Time
}

func newClient(mirror, cacheDir string, hc *http.Client, idle time.Duration, now func() time.Time) (*client, error) {
	m, err := normalizeMirror(mirror)
	if err != nil {
		return nil, err
	}
	if cacheDir == "" {
		if cacheDir, err = DefaultCacheDir(); err != nil {
			return nil, err
		}
	}
	if now == nil {
		now = time.Now
	}
	return &client{mirror: m, dir: mirrorDir(cacheDir, m), http: httpClient(hc, idle), now: now}, nil
}

// updater makes a go-tuf updater over dir's cache, trusting root.
func (c *client) updater(ctx context.Context, dir string, root []byte, offline bool) (*updater.Updater, error) {
	cfg, err := config.New(c.mirror, root)
	if err != nil {
		return nil, fmt.Errorf("configuring TUF client: %w", err)
	}
	cfg.LocalMetadataDir = filepath.Join(dir, "metadata")
	cfg.LocalTargetsDir = filepath.Join(dir, "targets")
	cfg.Fetcher = &httpFetcher{ctx: ctx, client: c.http}
	if offline {
		cfg.Fetcher = offlineFetcher{}
	}
	cfg.Fetcher = newDistinctKeysFetcher(cfg.Fetcher, cfg.RemoteTargetsURL)
	if err := checkTrustedKeys(root, cfg.LocalMetadataDir); err != nil {
		return nil, err
	}
	cfg.UnsafeLocalMode = offline
	cfg.MaxRootRotations = maxRootRotations
	cfg.RootMaxLength = maxRootSize
	cfg.TimestampMaxLength = maxTimestampSize
	cfg.SnapshotMaxLength = maxSnapshotSize
	cfg.TargetsMaxLength = maxTargetsSize
	up, err := updater.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: loading trusted root: %w", ErrVerification, err)
	}
	up.UnsafeSetRefTime(c.now().UTC())
	return up, nil
}

// Initialize trusts opts.Root for opts.Mirror: it starts a fresh cache for the mirror from that
// root, refreshes the metadata online (following root rotations), downloads and verifies the
// trusted root and signing config targets, and records the mirror as the default for Load. A
// failed Initialize leaves an earlier cache as it was. signingConfig is nil when the repository
// has no signing config target.
func Initialize(ctx context.Context, opts InitOptions) (trustedRoot, signingConfig []byte, err error) {
	c, err := newClient(opts.Mirror, opts.CacheDir, opts.HTTPClient, opts.IdleTimeout, opts.Now)
	if err != nil {
		return nil, nil, err
	}
	if len(opts.Root) == 0 {
		return nil, nil, fmt.Errorf("%w: no initial root.json given", ErrBadOption)
	}
	if len(opts.Root) > maxRootSize {
		return nil, nil, fmt.Errorf("%w: initial root.json is %d bytes, more than the %d allowed", ErrBadOption, len(opts.Root), maxRootSize)
	}
	if opts.RootChecksum != "" {
		if err := checkRootChecksum(opts.Root, opts.RootChecksum); err != nil {
			return nil, nil, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(c.dir), 0o700); err != nil {
		return nil, nil, fmt.Errorf("creating TUF cache: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(c.dir), ".init-*")
	if err != nil {
		return nil, nil, fmt.Errorf("creating TUF cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	up, err := c.updater(ctx, tmp, opts.Root, false)
	if err != nil {
		return nil, nil, err
	}
	if err := up.Refresh(); err != nil {
		return nil, nil, c.refreshError(err)
	}
	trustedRoot, signingConfig, err = c.targets(up, tmp, false)
	if err != nil {
		return nil, nil, err
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return nil, nil, fmt.Errorf("replacing TUF cache: %w", err)
	}
	if err := os.Rename(tmp, c.dir); err != nil {
		return nil, nil, fmt.Errorf("replacing TUF cache: %w", err)
	}
	rec, err := json.Marshal(remoteRecord{Mirror: c.mirror})
	if err != nil {
		return nil, nil, fmt.Errorf("encoding %s: %w", remoteFile, err)
	}
	if err := writeFileAtomic(filepath.Join(filepath.Dir(c.dir), remoteFile), rec, 0o644); err != nil {
		return nil, nil, err
	}
	return trustedRoot, signingConfig, nil
}

// Load returns the trust material of the TUF cache that Initialize made, refreshed from the
// mirror unless opts.Offline, parsed: the trusted root, and the signing config's services
// selected now (nil when the repository has no signing config target). When the mirror cannot be
// reached, Load falls back to the cache if its metadata has not expired (and tells
// opts.OnCacheFallback), unless ctx was cancelled; a verification failure (rollback, freeze, bad
// signatures, hash mismatch) is returned, never papered over.
func Load(ctx context.Context, opts LoadOptions) (*root.Material, error) {
	tr, sc, err := loadTargets(ctx, opts)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	m, err := root.ParseMaterial(tr, sc, now)
	if err != nil {
		return nil, fmt.Errorf("TUF target: %w", err)
	}
	return m, nil
}

// loadTargets returns the trusted root and signing config targets from the TUF cache that Initialize made,
// refreshed from the mirror unless opts.Offline. When the mirror cannot be reached, Load falls
// back to the cache if its metadata has not expired (and tells opts.OnCacheFallback), unless ctx
// was cancelled; a
// verification failure (rollback, freeze, bad signatures, hash mismatch) is returned, never
// papered over. signingConfig is nil when the repository has no signing config target.
func loadTargets(ctx context.Context, opts LoadOptions) (trustedRoot, signingConfig []byte, err error) {
	cacheDir := opts.CacheDir
	if cacheDir == "" {
		if cacheDir, err = DefaultCacheDir(); err != nil {
			return nil, nil, err
		}
	}
	mirror := opts.Mirror
	if mirror == "" {
		data, err := readBounded(filepath.Join(cacheDir, remoteFile), maxRemoteFile)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%w in %s: run cosign-like initialize", ErrNoCache, cacheDir)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading TUF cache: %w", err)
		}
		if mirror, err = parseRemoteRecord(data); err != nil {
			return nil, nil, err
		}
	}
	c, err := newClient(mirror, cacheDir, opts.HTTPClient, opts.IdleTimeout, opts.Now)
	if err != nil {
		return nil, nil, err
	}
	if opts.Offline {
		return c.loadOffline(ctx)
	}
	trustedRoot, signingConfig, err = c.loadOnline(ctx)
	if err != nil && errors.Is(err, ErrFetch) && ctx.Err() == nil {
		tr, sc, cerr := c.loadOffline(ctx)
		if cerr != nil {
			return nil, nil, fmt.Errorf("%w (and the cache cannot stand in: %w)", err, cerr)
		}
		if opts.OnCacheFallback != nil {
			opts.OnCacheFallback(err)
		}
		return tr, sc, nil
	}
	return trustedRoot, signingConfig, err
}

// cachedRoot reads the newest trusted root in the mirror's cache.
func (c *client) cachedRoot() ([]byte, error) {
	root, err := readBounded(filepath.Join(c.dir, "metadata", "root.json"), maxRootSize)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w for %s in %s: run cosign-like initialize", ErrNoCache, c.mirror, c.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading TUF cache: %w", err)
	}
	return root, nil
}

func (c *client) loadOnline(ctx context.Context) ([]byte, []byte, error) {
	root, err := c.cachedRoot()
	if err != nil {
		return nil, nil, err
	}
	up, err := c.updater(ctx, c.dir, root, false)
	if err != nil {
		return nil, nil, err
	}
	if err := up.Refresh(); err != nil {
		return nil, nil, c.refreshError(err)
	}
	return c.targets(up, c.dir, false)
}

func (c *client) loadOffline(ctx context.Context) ([]byte, []byte, error) {
	root, err := c.cachedRoot()
	if err != nil {
		return nil, nil, err
	}
	for _, role := range []string{RoleTimestamp, RoleSnapshot, RoleTargets} {
		if _, err := os.Stat(filepath.Join(c.dir, "metadata", role+".json")); err != nil {
			return nil, nil, fmt.Errorf("%w: %s.json missing for %s in %s: run cosign-like initialize", ErrNoCache, role, c.mirror, c.dir)
		}
	}
	up, err := c.updater(ctx, c.dir, root, true)
	if err != nil {
		return nil, nil, err
	}
	if err := up.Refresh(); err != nil {
		if errors.Is(err, &metadata.ErrExpiredMetadata{}) {
			return nil, nil, c.expiredError(up)
		}
		return nil, nil, fmt.Errorf("%w: TUF cache for %s: %w", ErrVerification, c.mirror, err)
	}
	return c.targets(up, c.dir, true)
}

// expiredError names the earliest expiry among the cached metadata that has passed.
func (c *client) expiredError(up *updater.Updater) error {
	tm := up.GetTrustedMetadataSet()
	now := c.now()
	var when time.Time
	var role string
	consider := func(name string, exp time.Time) {
		if exp.Before(now) && (role == "" || exp.Before(when)) {
			when, role = exp, name
		}
	}
	// go-tuf keeps only the metadata it loaded before the expiry stopped it; the cached copies
	// (verified when they were stored) say when the others expired.
	cached := filepath.Join(c.dir, "metadata")
	if tm.Root != nil {
		consider(RoleRoot, tm.Root.Signed.Expires)
	}
	if tm.Timestamp != nil {
		consider(RoleTimestamp, tm.Timestamp.Signed.Expires)
	} else if md, err := readMetadataFile(filepath.Join(cached, "timestamp.json"), metadata.Timestamp()); err == nil {
		consider(RoleTimestamp, md.Signed.Expires)
	}
	if tm.Snapshot != nil {
		consider(RoleSnapshot, tm.Snapshot.Signed.Expires)
	} else if md, err := readMetadataFile(filepath.Join(cached, "snapshot.json"), metadata.Snapshot()); err == nil {
		consider(RoleSnapshot, md.Signed.Expires)
	}
	if md := tm.Targets[RoleTargets]; md != nil {
		consider(RoleTargets, md.Signed.Expires)
	} else if md, err := readMetadataFile(filepath.Join(cached, "targets.json"), metadata.Targets()); err == nil {
		consider(RoleTargets, md.Signed.Expires)
	}
	if role == "" {
		return fmt.Errorf("%w for %s: run cosign-like initialize", ErrCacheExpired, c.mirror)
	}
	return fmt.Errorf("%w at %s (%s.json of %s): run cosign-like initialize", ErrCacheExpired, when.UTC().Format(time.RFC3339), role, c.mirror)
}

// refreshError classifies a failed online refresh.
func (c *client) refreshError(err error) error {
	if errors.Is(err, ErrFetch) {
		return fmt.Errorf("refreshing TUF metadata from %s: %w", c.mirror, err)
	}
	return fmt.Errorf("%w: refreshing TUF metadata from %s: %w", ErrVerification, c.mirror, err)
}

// targets returns the trusted root (required) and signing config (optional) targets, from the
// cache when it holds the version the metadata names, else downloaded (never when offline).
func (c *client) targets(up *updater.Updater, dir string, offline bool) ([]byte, []byte, error) {
	trustedRoot, err := c.target(up, dir, TrustedRootTarget, offline)
	if err != nil {
		return nil, nil, err
	}
	signingConfig, err := c.target(up, dir, SigningConfigTarget, offline)
	if errors.Is(err, ErrTargetMissing) {
		return trustedRoot, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return trustedRoot, signingConfig, nil
}

func (c *client) target(up *updater.Updater, dir, name string, offline bool) ([]byte, error) {
	info, ok := up.GetTopLevelTargets()[name]
	if !ok {
		// Not a top-level target: look in delegated targets roles (online only; offline, the
		// fetcher refuses, so a delegation the cache lacks fails).
		found, err := up.GetTargetInfo(name)
		if err != nil || found == nil {
			if err != nil && (errors.Is(err, ErrFetch) || errors.Is(err, errOffline)) {
				return nil, fmt.Errorf("looking up delegated target %s: %w", name, err)
			}
			if errors.Is(err, ErrVerification) {
				return nil, fmt.Errorf("%w: looking up delegated target %s: %w", ErrVerification, name, err)
			}
			return nil, fmt.Errorf("%w: %s is not listed by %s", ErrTargetMissing, name, c.mirror)
		}
		info = found
	}
	if info.Length < 0 || info.Length > MaxTargetSize {
		return nil, fmt.Errorf("%w: target %s declares %d bytes, more than the %d allowed", ErrVerification, name, info.Length, MaxTargetSize)
	}
	path := filepath.Join(dir, "targets", name)
	if _, data, err := up.FindCachedTarget(info, path); err == nil && data != nil {
		return data, nil
	}
	if offline {
		return nil, fmt.Errorf("%w: target %s of %s is not cached in %s: run cosign-like initialize", ErrNoCache, name, c.mirror, dir)
	}
	_, data, err := up.DownloadTarget(info, path, "")
	if err != nil {
		if errors.Is(err, ErrFetch) {
			return nil, fmt.Errorf("downloading target %s: %w", name, err)
		}
		return nil, fmt.Errorf("%w: target %s: %w", ErrVerification, name, err)
	}
	return data, nil
}

// FetchRoot downloads an initial root.json from an http or https URL, for a client that is told
// where the root lives rather than handed the file. The network is not a trust anchor, so the
// checksum (hex SHA-256, optionally prefixed "sha256:") is required and checked. hc makes the
// request (default: a client with a 30 s timeout); a request that makes no progress for 30 s
// is cancelled, whatever the client.
func FetchRoot(ctx context.Context, rootURL, checksum string, hc *http.Client) ([]byte, error) {
	if checksum == "" {
		return nil, fmt.Errorf("%w: a root fetched from %s needs its checksum", ErrBadOption, rootURL)
	}
	u, err := url.Parse(rootURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: root URL %q: want an http or https URL", ErrBadOption, rootURL)
	}
	f := &httpFetcher{ctx: ctx, client: httpClient(hc, 0)}
	data, err := f.DownloadFile(rootURL, maxRootSize, 0)
	if err != nil {
		return nil, fmt.Errorf("fetching initial root: %w", err)
	}
	if err := checkRootChecksum(data, checksum); err != nil {
		return nil, err
	}
	return data, nil
}
