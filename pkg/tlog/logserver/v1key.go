package logserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	commonv1 "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	trustrootv1 "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// v1Key is the Rekor v1 tree's key and identity.
type v1Key struct {
	priv            *ecdsa.PrivateKey
	der             []byte // PKIX public key
	privPEM, pubPEM []byte
	treeID          int64
	logID           string // hex SHA-256 of der
	start           time.Time
}

// newV1Key generates an ECDSA P-256 key and a random nonzero tree ID.
func newV1Key(now time.Time) (*v1Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating v1 log key: %w", err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encoding v1 log key: %w", err)
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1<<63-1))
	if err != nil {
		return nil, fmt.Errorf("choosing a tree ID: %w", err)
	}
	k, err := v1KeyFrom(priv, n.Int64()+1)
	if err != nil {
		return nil, err
	}
	k.privPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})
	k.start = now.UTC().Truncate(time.Second)
	return k, nil
}

func v1KeyFrom(priv *ecdsa.PrivateKey, treeID int64) (*v1Key, error) {
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("encoding v1 log public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return &v1Key{
		priv: priv, der: der, treeID: treeID, logID: hex.EncodeToString(sum[:]),
		pubPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
	}, nil
}

// tlog is the key's entry in a trusted root: the log at baseURL, ECDSA P-256, its log ID.
func (k *v1Key) tlog(baseURL string) *trustrootv1.TransparencyLogInstance {
	sum := sha256.Sum256(k.der)
	return &trustrootv1.TransparencyLogInstance{
		BaseUrl:       baseURL,
		HashAlgorithm: commonv1.HashAlgorithm_SHA2_256,
		PublicKey: &commonv1.PublicKey{
			RawBytes:   k.der,
			KeyDetails: commonv1.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256,
			ValidFor:   &commonv1.TimeRange{Start: timestamppb.New(k.start)},
		},
		LogId: &commonv1.LogId{KeyId: sum[:]},
	}
}

// loadV1Key reads the v1 key of the log in dir. A log directory written before the v1 API
// existed has none: it is created then (key files, tree ID and log ID in the config, and the
// key's entry appended to the directory's trusted_root.json, valid from now), so that the
// server keeps opening such directories; clients must then take the new trusted root. The
// config is written last: until it names a tree ID, the upgrade starts over.
func loadV1Key(dir string, cfg *LogConfig) (*v1Key, error) {
	if cfg.TreeID == 0 {
		return upgradeV1(dir, cfg)
	}
	raw, err := os.ReadFile(filepath.Join(dir, V1PrivateKeyFile))
	if err != nil {
		return nil, fmt.Errorf("reading v1 log key: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PEM PRIVATE KEY", V1PrivateKeyFile)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing v1 log key: %w", err)
	}
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%s: v1 log key is %T, want ECDSA P-256", V1PrivateKeyFile, key)
	}
	k, err := v1KeyFrom(priv, cfg.TreeID)
	if err != nil {
		return nil, err
	}
	if cfg.V1LogID != "" && cfg.V1LogID != k.logID {
		return nil, fmt.Errorf("%s: v1LogId %s is not the ID %s of %s", ConfigFile, cfg.V1LogID, k.logID, V1PrivateKeyFile)
	}
	return k, nil
}

func upgradeV1(dir string, cfg *LogConfig) (*v1Key, error) {
	k, err := newV1Key(time.Now())
	if err != nil {
		return nil, err
	}
	trPath := filepath.Join(dir, TrustedRootFile)
	var tr trustrootv1.TrustedRoot
	trRaw, err := os.ReadFile(trPath)
	if err != nil {
		return nil, fmt.Errorf("reading %s to add the v1 log: %w", TrustedRootFile, err)
	}
	if err := protojson.Unmarshal(trRaw, &tr); err != nil {
		return nil, fmt.Errorf("parsing %s to add the v1 log: %w", TrustedRootFile, err)
	}
	// An upgrade interrupted before the config was written may have added a key already.
	kept := tr.Tlogs[:0]
	for _, t := range tr.Tlogs {
		if t.GetBaseUrl() != cfg.URL || t.GetPublicKey().GetKeyDetails() != commonv1.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256 {
			kept = append(kept, t)
		}
	}
	tr.Tlogs = append(kept, k.tlog(cfg.URL))
	trJSON, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(&tr)
	if err != nil {
		return nil, fmt.Errorf("encoding trusted root: %w", err)
	}
	cfg.TreeID, cfg.V1LogID = k.treeID, k.logID
	cfgJSON, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	// The config last: until it names the tree ID, the next Open starts the upgrade again.
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{V1PrivateKeyFile, k.privPEM, 0o600},
		{V1PublicKeyFile, k.pubPEM, 0o644},
		{TrustedRootFile, append(trJSON, '\n'), 0o644},
		{ConfigFile, append(cfgJSON, '\n'), 0o644},
	} {
		if err := writeFileSync(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// writeFileSync writes a file through a temporary one renamed into place.
func writeFileSync(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	return nil
}

// LoadV1LogKey returns the verification key of the Rekor v1 tree of the log in dir, as a client
// would trust it (origin the hostname; checkpoints name "<origin> - <tree ID>"), and its tree ID.
func LoadV1LogKey(dir string) (tlog.LogKey, int64, error) {
	cfg, _, err := loadLog(dir)
	if err != nil {
		return tlog.LogKey{}, 0, err
	}
	k, err := loadV1Key(dir, cfg)
	if err != nil {
		return tlog.LogKey{}, 0, err
	}
	sum := sha256.Sum256(k.der)
	return tlog.LogKey{Origin: cfg.Origin, KeyID: sum[:], PublicKey: &k.priv.PublicKey}, k.treeID, nil
}

// v1NoteSigner signs notes as Rekor v1 does: the key hint is the first 4 bytes of SHA-256 of the
// PKIX DER key, the signature ECDSA ASN.1 over SHA-256 of the note text, and the signature line
// names the host.
type v1NoteSigner struct {
	name string
	hash uint32
	key  *ecdsa.PrivateKey
}

func newV1NoteSigner(host string, k *v1Key) *v1NoteSigner {
	sum := sha256.Sum256(k.der)
	return &v1NoteSigner{name: host, hash: binary.BigEndian.Uint32(sum[:4]), key: k.priv}
}

func (s *v1NoteSigner) Name() string    { return s.name }
func (s *v1NoteSigner) KeyHash() uint32 { return s.hash }
func (s *v1NoteSigner) Sign(msg []byte) ([]byte, error) {
	d := sha256.Sum256(msg)
	return ecdsa.SignASN1(rand.Reader, s.key, d[:])
}
