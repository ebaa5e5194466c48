package root

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/internal/limitio"
)

// MaxTrustedRootSize is the largest trusted root document ParseTrustedRoot reads, in bytes.
const MaxTrustedRootSize = 16 << 20

// ErrInvalidTrustedRoot is wrapped by every error ParseTrustedRoot returns.
var ErrInvalidTrustedRoot = errors.New("invalid trusted root")

// TrustedRoot is the parsed trust material: transparency logs, CT logs, certificate
// authorities and timestamp authorities, each with the window in which it may be trusted.
type TrustedRoot struct {
	tlogs  []*TransparencyLog
	ctlogs []*TransparencyLog
	cas    []*CertificateAuthority
	tsas   []*CertificateAuthority
}

// TransparencyLog is a transparency log (or CT log) the trusted root lists.
type TransparencyLog struct {
	// BaseURL is the log's base URL; for Rekor v2 logs its host is the checkpoint origin.
	BaseURL string
	// ID is the log ID bundles name it by (SHA-256 of the key for Rekor v1 and CT logs, the
	// checkpoint key ID for Rekor v2).
	ID []byte
	// CheckpointKeyID is the signed-note key ID, when the trusted root gives one apart.
	CheckpointKeyID []byte
	// PublicKey verifies the log's checkpoints, SETs or SCTs.
	PublicKey crypto.PublicKey
	// HashFunc is the log's Merkle tree hash.
	HashFunc crypto.Hash
	// ValidFrom and ValidUntil bound the window the key may be trusted in (ValidUntil zero:
	// open ended). Both ends are inclusive.
	ValidFrom, ValidUntil time.Time
}

// CertificateAuthority is a CA or TSA the trusted root lists: its chain, root last.
type CertificateAuthority struct {
	// URI is where the authority is served.
	URI string
	// Chain is the certificate chain, root last; for a TSA the first is its signing certificate.
	Chain []*x509.Certificate
	// ValidFrom and ValidUntil bound the window it may be trusted in (zero: unbounded).
	ValidFrom, ValidUntil time.Time
}

// Root returns the last certificate of the chain.
func (c *CertificateAuthority) Root() *x509.Certificate { return c.Chain[len(c.Chain)-1] }

// validAt reports whether t lies in [from, until] (zero bounds are open).
func validAt(from, until, t time.Time) bool {
	if !from.IsZero() && t.Before(from) {
		return false
	}
	if !until.IsZero() && t.After(until) {
		return false
	}
	return true
}

// ValidAt reports whether the log's key may be trusted at t.
func (l *TransparencyLog) ValidAt(t time.Time) bool { return validAt(l.ValidFrom, l.ValidUntil, t) }

// ValidAt reports whether the authority may be trusted at t.
func (c *CertificateAuthority) ValidAt(t time.Time) bool {
	return validAt(c.ValidFrom, c.ValidUntil, t)
}

// Tlogs returns the transparency logs.
func (r *TrustedRoot) Tlogs() []*TransparencyLog { return r.tlogs }

// CTLogs returns the certificate transparency logs.
func (r *TrustedRoot) CTLogs() []*TransparencyLog { return r.ctlogs }

// CertificateAuthorities returns the code-signing CAs.
func (r *TrustedRoot) CertificateAuthorities() []*CertificateAuthority { return r.cas }

// TimestampAuthorities returns the timestamp authorities.
func (r *TrustedRoot) TimestampAuthorities() []*CertificateAuthority { return r.tsas }

// WithCertificateAuthorities returns a copy of r whose certificate authorities are cas instead
// of r's: the logs, CT logs and timestamp authorities stay. r is not changed.
func (r *TrustedRoot) WithCertificateAuthorities(cas ...*CertificateAuthority) *TrustedRoot {
	out := &TrustedRoot{}
	if r != nil {
		*out = *r
	}
	out.cas = append([]*CertificateAuthority(nil), cas...)
	return out
}

// TlogByID returns the transparency log with the given log ID (or checkpoint key ID).
func (r *TrustedRoot) TlogByID(id []byte) *TransparencyLog {
	for _, l := range r.tlogs {
		if bytes.Equal(l.ID, id) || (len(l.CheckpointKeyID) > 0 && bytes.Equal(l.CheckpointKeyID, id)) {
			return l
		}
	}
	return nil
}

// CTLogByID returns the CT log with the given log ID.
func (r *TrustedRoot) CTLogByID(id []byte) *TransparencyLog {
	for _, l := range r.ctlogs {
		if bytes.Equal(l.ID, id) {
			return l
		}
	}
	return nil
}

// LoadTrustedRoot reads and parses a trusted root file.
func LoadTrustedRoot(path string) (*TrustedRoot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading trusted root: %w", err)
	}
	defer f.Close()
	data, err := limitio.ReadAll(f, MaxTrustedRootSize)
	if err != nil {
		return nil, fmt.Errorf("reading trusted root %s: %w", path, err)
	}
	r, err := ParseTrustedRoot(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// ParseTrustedRoot parses a trusted root (protobuf-specs TrustedRoot, JSON, media type v0.1 or
// v0.2). Every log key must parse and carry validFor.start; every CA and TSA needs a chain of
// parseable certificates. Errors wrap ErrInvalidTrustedRoot.
func ParseTrustedRoot(data []byte) (*TrustedRoot, error) {
	if len(data) > MaxTrustedRootSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrInvalidTrustedRoot, len(data), MaxTrustedRootSize)
	}
	pb := &prototrustroot.TrustedRoot{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, pb); err != nil {
		return nil, fmt.Errorf("%w: parsing JSON: %w", ErrInvalidTrustedRoot, err)
	}
	if !slices.Contains(TrustedRootMediaTypes, pb.GetMediaType()) {
		return nil, fmt.Errorf("%w: media type %q (want %s)", ErrInvalidTrustedRoot, pb.GetMediaType(), TrustedRootMediaTypeV02)
	}
	r := &TrustedRoot{}
	for i, t := range pb.GetTlogs() {
		l, err := parseLog(t)
		if err != nil {
			return nil, fmt.Errorf("%w: tlogs[%d] (%s): %w", ErrInvalidTrustedRoot, i, t.GetBaseUrl(), err)
		}
		r.tlogs = append(r.tlogs, l)
	}
	for i, t := range pb.GetCtlogs() {
		l, err := parseLog(t)
		if err != nil {
			return nil, fmt.Errorf("%w: ctlogs[%d] (%s): %w", ErrInvalidTrustedRoot, i, t.GetBaseUrl(), err)
		}
		r.ctlogs = append(r.ctlogs, l)
	}
	for i, c := range pb.GetCertificateAuthorities() {
		ca, err := parseAuthority(c)
		if err != nil {
			return nil, fmt.Errorf("%w: certificateAuthorities[%d] (%s): %w", ErrInvalidTrustedRoot, i, c.GetUri(), err)
		}
		r.cas = append(r.cas, ca)
	}
	for i, c := range pb.GetTimestampAuthorities() {
		ca, err := parseAuthority(c)
		if err != nil {
			return nil, fmt.Errorf("%w: timestampAuthorities[%d] (%s): %w", ErrInvalidTrustedRoot, i, c.GetUri(), err)
		}
		r.tsas = append(r.tsas, ca)
	}
	return r, nil
}

func parseLog(t *prototrustroot.TransparencyLogInstance) (*TransparencyLog, error) {
	if t.GetBaseUrl() != "" {
		if _, err := url.Parse(t.GetBaseUrl()); err != nil {
			return nil, fmt.Errorf("baseUrl: %w", err)
		}
	}
	if len(t.GetLogId().GetKeyId()) == 0 {
		return nil, errors.New("no logId")
	}
	pk := t.GetPublicKey()
	if len(pk.GetRawBytes()) == 0 {
		return nil, errors.New("no publicKey.rawBytes")
	}
	pub, err := parsePublicKey(pk.GetRawBytes(), pk.GetKeyDetails())
	if err != nil {
		return nil, err
	}
	if pk.GetValidFor().GetStart() == nil {
		return nil, errors.New("publicKey.validFor.start is missing")
	}
	h := crypto.SHA256
	switch t.GetHashAlgorithm() {
	case protocommon.HashAlgorithm_SHA2_256, protocommon.HashAlgorithm_HASH_ALGORITHM_UNSPECIFIED:
	default:
		return nil, fmt.Errorf("hashAlgorithm %s not supported (SHA2_256 required)", t.GetHashAlgorithm())
	}
	l := &TransparencyLog{
		BaseURL:         t.GetBaseUrl(),
		ID:              t.GetLogId().GetKeyId(),
		CheckpointKeyID: t.GetCheckpointKeyId().GetKeyId(),
		PublicKey:       pub,
		HashFunc:        h,
		ValidFrom:       pk.GetValidFor().GetStart().AsTime(),
	}
	if end := pk.GetValidFor().GetEnd(); end != nil {
		l.ValidUntil = end.AsTime()
	}
	return l, nil
}

// parsePublicKey reads a PKIX (or, for the PKCS1_ key types, PKCS #1) DER public key.
func parsePublicKey(der []byte, details protocommon.PublicKeyDetails) (crypto.PublicKey, error) {
	switch details {
	case protocommon.PublicKeyDetails_PKCS1_RSA_PKCS1V5, protocommon.PublicKeyDetails_PKCS1_RSA_PSS:
		if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
			return k, nil
		}
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("public key (%s): %w", details, err)
	}
	return k, nil
}

func parseAuthority(c *prototrustroot.CertificateAuthority) (*CertificateAuthority, error) {
	certs := c.GetCertChain().GetCertificates()
	if len(certs) == 0 {
		return nil, errors.New("certChain is empty")
	}
	ca := &CertificateAuthority{URI: c.GetUri()}
	for i, raw := range certs {
		cert, err := x509.ParseCertificate(raw.GetRawBytes())
		if err != nil {
			return nil, fmt.Errorf("certChain[%d]: %w", i, err)
		}
		ca.Chain = append(ca.Chain, cert)
	}
	if s := c.GetValidFor().GetStart(); s != nil {
		ca.ValidFrom = s.AsTime()
	}
	if e := c.GetValidFor().GetEnd(); e != nil {
		ca.ValidUntil = e.AsTime()
	}
	return ca, nil
}
