package logserver

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	commonv1 "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	trustrootv1 "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// Files in a log directory, written by Init.
const (
	ConfigFile      = "config.json"
	PrivateKeyFile  = "log.key"
	PublicKeyFile   = "log.pub"
	TrustedRootFile = "trusted_root.json"
	// DataDir holds the POSIX tile storage.
	DataDir = "data"
	// V1PrivateKeyFile and V1PublicKeyFile hold the Rekor v1 tree's ECDSA P-256 key; V1DataDir
	// its POSIX tile storage and V1IndexFile its search index and integrated times.
	V1PrivateKeyFile = "log-v1.key"
	V1PublicKeyFile  = "log-v1.pub"
	V1DataDir        = "data-v1"
	V1IndexFile      = "v1index.db"
)

// ErrNotInitialized reports a log directory without the files Init writes.
var ErrNotInitialized = errors.New("log directory is not initialized (run log init)")

// LogConfig is the stored configuration of a log, in ConfigFile.
type LogConfig struct {
	// URL is the log's base URL as clients reach it.
	URL string `json:"url"`
	// Origin is the checkpoint origin: the hostname of URL.
	Origin string `json:"origin"`
	// LogID is the base64 checkpoint key ID (SHA-256 of the origin and Ed25519 key).
	LogID string `json:"logId"`
	// TreeID is the Rekor v1 tree's ID, a random nonzero int64: its checkpoint origin is
	// "<Origin> - <TreeID>" and its entry UUIDs begin with it (16 hex digits).
	TreeID int64 `json:"treeId,omitempty"`
	// V1LogID is the Rekor v1 log ID: hex SHA-256 of the v1 key's PKIX DER.
	V1LogID string `json:"v1LogId,omitempty"`
}

// InitOptions configure Init.
type InitOptions struct {
	// URL is the log's base URL as clients reach it; its hostname is the checkpoint origin.
	URL string
	// Start is when the key becomes valid in the trusted root (now by default).
	Start time.Time
}

// Init creates a log in dir: an Ed25519 checkpoint key (log.key, mode 0600; log.pub), the Rekor v1
// tree's ECDSA P-256 key (log-v1.key, mode 0600; log-v1.pub) and tree ID, the config, and
// trusted_root.json listing both (baseUrl, logId, key, validFor from opts.Start). It refuses to
// overwrite an existing key. LoadConfig reads back what it wrote.
func Init(_ context.Context, dir string, opts InitOptions) error {
	_, err := initLog(dir, opts.URL, opts.Start)
	return err
}

// LoadConfig returns the stored configuration of the log in dir.
func LoadConfig(dir string) (*LogConfig, error) {
	cfg, _, err := loadLog(dir)
	return cfg, err
}

func initLog(dir, baseURL string, now time.Time) (*LogConfig, error) {
	if now.IsZero() {
		now = time.Now()
	}

	origin, err := tlog.OriginFromURL(baseURL)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating log directory: %w", err)
	}
	keyPath := filepath.Join(dir, PrivateKeyFile)
	if _, err := os.Stat(keyPath); err == nil {
		return nil, fmt.Errorf("%s already exists: refusing to replace the log key", keyPath)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating log key: %w", err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encoding log key: %w", err)
	}
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding log public key: %w", err)
	}
	id := tlog.Ed25519KeyID(origin, pub)
	cfg := &LogConfig{URL: strings.TrimSuffix(baseURL, "/"), Origin: origin, LogID: base64.StdEncoding.EncodeToString(id[:])}
	v1, err := newV1Key(now)
	if err != nil {
		return nil, err
	}
	cfg.TreeID, cfg.V1LogID = v1.treeID, v1.logID
	cfgJSON, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	tr := &trustrootv1.TrustedRoot{
		MediaType: root.TrustedRootMediaType,
		Tlogs: []*trustrootv1.TransparencyLogInstance{{
			BaseUrl:       cfg.URL,
			HashAlgorithm: commonv1.HashAlgorithm_SHA2_256,
			PublicKey: &commonv1.PublicKey{
				RawBytes:   pkix,
				KeyDetails: commonv1.PublicKeyDetails_PKIX_ED25519,
				ValidFor:   &commonv1.TimeRange{Start: timestamppb.New(now.UTC().Truncate(time.Second))},
			},
			LogId: &commonv1.LogId{KeyId: id[:]},
		}, v1.tlog(cfg.URL)},
	}
	trJSON, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(tr)
	if err != nil {
		return nil, fmt.Errorf("encoding trusted root: %w", err)
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{PrivateKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), 0o600},
		{PublicKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}), 0o644},
		{V1PrivateKeyFile, v1.privPEM, 0o600},
		{V1PublicKeyFile, v1.pubPEM, 0o644},
		{ConfigFile, append(cfgJSON, '\n'), 0o644},
		{TrustedRootFile, append(trJSON, '\n'), 0o644},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return nil, fmt.Errorf("writing %s: %w", f.name, err)
		}
	}
	return cfg, nil
}

// loadLog reads the config and private key of an initialized log directory.
func loadLog(dir string) (*LogConfig, ed25519.PrivateKey, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: %s has no %s", ErrNotInitialized, dir, ConfigFile)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading log config: %w", err)
	}
	var cfg LogConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, nil, fmt.Errorf("parsing %s: %w", ConfigFile, err)
	}
	if cfg.Origin == "" {
		return nil, nil, fmt.Errorf("%s: empty origin", ConfigFile)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, PrivateKeyFile))
	if err != nil {
		return nil, nil, fmt.Errorf("reading log key: %w", err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, nil, fmt.Errorf("%s: not a PEM PRIVATE KEY", PrivateKeyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing log key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("log key is %T, want Ed25519", k)
	}
	return &cfg, priv, nil
}

// LoadLogKey returns the verification key of the log in dir, as a client would trust it.
func LoadLogKey(dir string) (tlog.LogKey, error) {
	cfg, priv, err := loadLog(dir)
	if err != nil {
		return tlog.LogKey{}, err
	}
	pub := priv.Public().(ed25519.PublicKey)
	id := tlog.Ed25519KeyID(cfg.Origin, pub)
	return tlog.LogKey{Origin: cfg.Origin, KeyID: id[:], PublicKey: pub}, nil
}
