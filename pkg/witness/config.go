package witness

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cosign-like/cosign-like/internal/fsutil"
	"github.com/cosign-like/cosign-like/internal/limitio"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// Files in a witness directory, written by Init.
const (
	// ConfigFile holds the FileConfig.
	ConfigFile = "config.json"
	// PrivateKeyFile holds the witness's signed-note signer key (mode 0600).
	PrivateKeyFile = "witness.key"
	// VerifierKeyFile holds the witness's cosignature/v1 verifier key, for policies.
	VerifierKeyFile = "witness.vkey"
	// StateDir holds the latest cosigned checkpoint of each log (DirStore).
	StateDir = "state"
)

// maxConfigSize bounds the files Open reads.
const maxConfigSize = 1 << 20

// ErrNotInitialized reports a witness directory without the files Init writes.
var ErrNotInitialized = errors.New("witness directory is not initialized (run witness init)")

// FileConfig is the configuration stored in ConfigFile.
type FileConfig struct {
	// Name is the witness's key name, which its cosignature lines carry (a schema-less URL such
	// as "witness.example.com/w1" is recommended).
	Name string `json:"name"`
	// Logs are the logs the witness follows.
	Logs []LogConfig `json:"logs"`
}

// LogConfig is one log the witness follows.
type LogConfig struct {
	// Origin is the log's checkpoint origin; when empty, the verifier key's name. When set it
	// must equal that name (a log's note key is named by the origin it signs).
	Origin string `json:"origin,omitempty"`
	// VerifierKey is the log's checkpoint key as a signed-note verifier key
	// ("<origin>+<key ID>+<base64 key>"): Ed25519 (type 0x01), or a CT log's RFC 6962 tree head
	// key (type 0x05, tlog.TreeHeadLogKey).
	VerifierKey string `json:"vkey"`
}

// LogKey is the log's key, checked.
func (c LogConfig) LogKey() (tlog.LogKey, error) {
	vk, err := tlog.ParseVerifierKey(c.VerifierKey)
	if err != nil {
		return tlog.LogKey{}, err
	}
	k, err := vk.LogKey()
	if err != nil {
		return tlog.LogKey{}, err
	}
	if c.Origin != "" && c.Origin != vk.Name {
		return tlog.LogKey{}, fmt.Errorf("log %q: its verifier key is named %q: an Ed25519 checkpoint key is named by its origin", c.Origin, vk.Name)
	}
	return k, nil
}

// logKeys checks the configured logs and returns their keys; no origin may appear twice.
func logKeys(logs []LogConfig) ([]tlog.LogKey, error) {
	keys := make([]tlog.LogKey, 0, len(logs))
	seen := map[string]bool{}
	for i, l := range logs {
		k, err := l.LogKey()
		if err != nil {
			return nil, fmt.Errorf("log %d: %w", i+1, err)
		}
		if seen[k.Origin] {
			return nil, fmt.Errorf("log %d: origin %q is listed twice", i+1, k.Origin)
		}
		seen[k.Origin] = true
		keys = append(keys, k)
	}
	return keys, nil
}

// InitOptions configure Init.
type InitOptions struct {
	// Name is the witness's key name (required).
	Name string
	// Logs are the logs to follow; more can be added to ConfigFile later.
	Logs []LogConfig
}

// Init creates a witness in dir: an Ed25519 key (PrivateKeyFile, mode 0600, as a signed-note
// signer key; VerifierKeyFile, its cosignature/v1 verifier key), ConfigFile with the name and
// logs, and the empty StateDir. It refuses to replace an existing key.
func Init(_ context.Context, dir string, opts InitOptions) error {
	if _, err := logKeys(opts.Logs); err != nil {
		return err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generating witness key: %w", err)
	}
	signer, err := tlog.NewCosignatureSigner(opts.Name, priv)
	if err != nil {
		return fmt.Errorf("witness name: %w", err)
	}
	keyPath := filepath.Join(dir, PrivateKeyFile)
	if _, err := os.Stat(keyPath); err == nil {
		return fmt.Errorf("%s already exists: refusing to replace the witness key", keyPath)
	}
	if err := os.MkdirAll(filepath.Join(dir, StateDir), 0o755); err != nil {
		return fmt.Errorf("creating witness directory: %w", err)
	}
	logs := opts.Logs
	if logs == nil {
		logs = []LogConfig{}
	}
	cfg, err := json.MarshalIndent(FileConfig{Name: opts.Name, Logs: logs}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding config: %w", err)
	}
	files := []struct {
		name string
		data string
		mode os.FileMode
	}{
		{PrivateKeyFile, signer.SignerKey() + "\n", 0o600},
		{VerifierKeyFile, signer.Verifier().VerifierKey().String() + "\n", 0o644},
		{ConfigFile, string(cfg) + "\n", 0o644},
	}
	for _, f := range files {
		if err := fsutil.WriteFileAtomic(filepath.Join(dir, f.name), []byte(f.data), f.mode); err != nil {
			return err
		}
	}
	return nil
}

// LoadConfig returns the configuration of the witness in dir.
func LoadConfig(dir string) (*FileConfig, error) {
	raw, err := limitio.ReadFile(filepath.Join(dir, ConfigFile), maxConfigSize)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no %s", ErrNotInitialized, dir, ConfigFile)
	}
	if err != nil {
		return nil, fmt.Errorf("reading witness config: %w", err)
	}
	var cfg FileConfig
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", ConfigFile, err)
	}
	return &cfg, nil
}

// LoadSigner returns the key of the witness in dir, named as its config says.
func LoadSigner(dir string) (*tlog.CosignatureSigner, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	raw, err := limitio.ReadFile(filepath.Join(dir, PrivateKeyFile), maxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("reading witness key: %w", err)
	}
	s, err := tlog.ParseCosignatureSigner(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", PrivateKeyFile, err)
	}
	if s.Name() != cfg.Name {
		return nil, fmt.Errorf("%s names the witness %q, %s names it %q", PrivateKeyFile, s.Name(), ConfigFile, cfg.Name)
	}
	return s, nil
}
