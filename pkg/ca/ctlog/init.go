package ctlog

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
)

// Files in a CT log state directory.
const (
	KeyFile         = "ct_key.pem"         // SCT and checkpoint signing key, ECDSA P-256, PKCS#8 PEM
	PublicKeyFile   = "ct_pub.pem"         // its public key, PKIX PEM (for the CA's --ct-public-key)
	OriginFile      = "origin"             // the checkpoints' origin line
	VerifierKeyFile = "ct.vkey"            // the checkpoints' signed-note verifier key (RFC 6962 tree head, type 0x05), for witnesses
	RootsFile       = "roots.pem"          // accepted roots (optional)
	LogDir          = "log"                // Tessera POSIX storage
	TrustedRootFile = "trusted_root.json"  // the ctlogs part of a trusted root
	defaultOrigin   = "cosign-like-ct-log" // checkpoint origin when no URL is given
)

// ErrStateExists is returned by Init when the directory already holds a CT log.
var ErrStateExists = errors.New("state directory already initialised")

// InitOptions configure Init.
type InitOptions struct {
	// URL is the log's base URL recorded in the trusted root; its host also names the
	// checkpoints' origin. May be empty.
	URL string
	// RootsPEM, when set, are the roots the log accepts chains to (written to roots.pem). Without
	// roots the log accepts any chain whose signatures verify up to a self-signed CA.
	RootsPEM []byte
}

// Init creates a CT log in dir: the ECDSA P-256 key that signs SCTs and checkpoints (RFC 6962
// tree heads as signed notes), the checkpoints' origin and verifier key, the optional accepted
// roots, and
// trusted_root.json listing the log under ctlogs. ctx is not used yet: nothing is fetched.
func Init(_ context.Context, dir string, opts InitOptions) error {
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); err == nil {
		return fmt.Errorf("%w: %s exists", ErrStateExists, filepath.Join(dir, KeyFile))
	}
	if len(opts.RootsPEM) > 0 {
		if _, err := pki.ParseCertificates(opts.RootsPEM); err != nil {
			return fmt.Errorf("accepted roots: %w", err)
		}
	}
	key, err := pki.GenerateP256()
	if err != nil {
		return err
	}
	origin := defaultOrigin
	if opts.URL != "" {
		u, err := url.Parse(opts.URL)
		if err != nil || u.Host == "" {
			return fmt.Errorf("CT log URL %q: want an absolute URL", opts.URL)
		}
		origin = u.Host
	}
	if err := pki.WritePrivateKey(filepath.Join(dir, KeyFile), key); err != nil {
		return err
	}
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return fmt.Errorf("encoding the log's public key: %w", err)
	}
	if err := pki.WriteFile(filepath.Join(dir, PublicKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), 0o644); err != nil {
		return err
	}
	if err := pki.WriteFile(filepath.Join(dir, OriginFile), []byte(origin+"\n"), 0o644); err != nil {
		return err
	}
	logKey, err := tlog.TreeHeadLogKey(origin, &key.PublicKey)
	if err != nil {
		return err
	}
	vkey, err := logKey.VerifierKey()
	if err != nil {
		return fmt.Errorf("the checkpoints' verifier key: %w", err)
	}
	if err := pki.WriteFile(filepath.Join(dir, VerifierKeyFile), []byte(vkey.String()+"\n"), 0o644); err != nil {
		return err
	}
	if len(opts.RootsPEM) > 0 {
		if err := pki.WriteFile(filepath.Join(dir, RootsFile), opts.RootsPEM, 0o644); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, LogDir), 0o755); err != nil {
		return fmt.Errorf("creating log storage: %w", err)
	}
	tl, err := pki.TransparencyLog(opts.URL, key.Public(), time.Now().Add(-time.Minute))
	if err != nil {
		return err
	}
	return pki.WriteTrustedRoot(filepath.Join(dir, TrustedRootFile), &prototrustroot.TrustedRoot{
		Ctlogs: []*prototrustroot.TransparencyLogInstance{tl},
	})
}
