package ctlog

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
)

// noteSigTypeRFC6962 is the signature type byte of RFC 6962 tree-head note signatures
// (C2SP signed-note, as static CT logs sign their checkpoints).
const noteSigTypeRFC6962 = 0x05

// treeHeadSigner signs checkpoints with the log's ECDSA key as RFC 6962 tree heads: the
// signature is an 8-byte timestamp followed by the TLS-encoded DigitallySigned over the
// TreeHeadSignature of that size and root. Verifiers holding only the log key from the trusted
// root can check the checkpoints.
type treeHeadSigner struct {
	origin string
	key    crypto.Signer
	hash   uint32
	now    func() time.Time
}

func newTreeHeadSigner(origin string, key crypto.Signer, now func() time.Time) (*treeHeadSigner, error) {
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("encoding log key: %w", err)
	}
	return &treeHeadSigner{origin: origin, key: key, hash: noteKeyHash(origin, spki), now: now}, nil
}

// noteKeyHash is the key ID of an RFC 6962 note key: the first four bytes of
// SHA-256(origin || "\n" || 0x05 || SHA-256(SPKI)).
func noteKeyHash(origin string, spki []byte) uint32 {
	inner := sha256.Sum256(spki)
	h := sha256.New()
	h.Write([]byte(origin + "\n"))
	h.Write([]byte{noteSigTypeRFC6962})
	h.Write(inner[:])
	return binary.BigEndian.Uint32(h.Sum(nil)[:4])
}

// Name implements note.Signer.
func (s *treeHeadSigner) Name() string { return s.origin }

// KeyHash implements note.Signer.
func (s *treeHeadSigner) KeyHash() uint32 { return s.hash }

// Sign implements note.Signer over a checkpoint body ("origin\nsize\nbase64(root)\n...").
func (s *treeHeadSigner) Sign(msg []byte) ([]byte, error) {
	size, root, err := parseCheckpointBody(s.origin, msg)
	if err != nil {
		return nil, err
	}
	ts := uint64(s.now().UnixMilli())
	input, err := ct.SerializeSTHSignatureInput(ct.SignedTreeHead{Version: ct.V1, TreeSize: size, Timestamp: ts, SHA256RootHash: root})
	if err != nil {
		return nil, fmt.Errorf("tree head input: %w", err)
	}
	digest := sha256.Sum256(input)
	sig, err := s.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing tree head: %w", err)
	}
	ds, err := cttls.Marshal(cttls.DigitallySigned{
		Algorithm: cttls.SignatureAndHashAlgorithm{Hash: cttls.SHA256, Signature: cttls.ECDSA},
		Signature: sig,
	})
	if err != nil {
		return nil, fmt.Errorf("encoding tree head signature: %w", err)
	}
	return append(binary.BigEndian.AppendUint64(nil, ts), ds...), nil
}

// parseCheckpointBody reads the size and root hash of a checkpoint body for origin.
func parseCheckpointBody(origin string, msg []byte) (uint64, ct.SHA256Hash, error) {
	lines := strings.SplitN(string(msg), "\n", 4)
	if len(lines) < 4 || lines[0] != origin {
		return 0, ct.SHA256Hash{}, errors.New("checkpoint body: want origin, size and root lines")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		return 0, ct.SHA256Hash{}, fmt.Errorf("checkpoint size %q: %w", lines[1], err)
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != sha256.Size {
		return 0, ct.SHA256Hash{}, fmt.Errorf("checkpoint root %q: want a base64 SHA-256 hash", lines[2])
	}
	var root ct.SHA256Hash
	copy(root[:], raw)
	return size, root, nil
}

// VerifyCheckpoint checks an RFC 6962-signed checkpoint of the CT log with the log's public
// key (as listed in the trusted root) and returns its size and root hash.
func VerifyCheckpoint(checkpoint []byte, origin string, logKey crypto.PublicKey) (uint64, [32]byte, error) {
	body, sigs, ok := bytes.Cut(checkpoint, []byte("\n\n"))
	if !ok {
		return 0, [32]byte{}, errors.New("checkpoint: no signature block")
	}
	body = append(body, '\n')
	size, root, err := parseCheckpointBody(origin, body)
	if err != nil {
		return 0, [32]byte{}, err
	}
	spki, err := x509.MarshalPKIXPublicKey(logKey)
	if err != nil {
		return 0, [32]byte{}, fmt.Errorf("log key: %w", err)
	}
	want := noteKeyHash(origin, spki)
	verifier, err := ct.NewSignatureVerifier(logKey)
	if err != nil {
		return 0, [32]byte{}, fmt.Errorf("log key: %w", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(sigs)), "\n") {
		name, b64, ok := strings.Cut(strings.TrimPrefix(line, "— "), " ")
		if !ok || name != origin {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) < 4+8 || binary.BigEndian.Uint32(raw[:4]) != want {
			continue
		}
		ts := binary.BigEndian.Uint64(raw[4:12])
		var ds cttls.DigitallySigned
		if rest, err := cttls.Unmarshal(raw[12:], &ds); err != nil || len(rest) > 0 {
			return 0, [32]byte{}, errors.New("checkpoint: malformed tree head signature")
		}
		sth := ct.SignedTreeHead{Version: ct.V1, TreeSize: size, Timestamp: ts, SHA256RootHash: root, TreeHeadSignature: ct.DigitallySigned(ds)}
		if err := verifier.VerifySTHSignature(sth); err != nil {
			return 0, [32]byte{}, fmt.Errorf("checkpoint: %w", err)
		}
		return size, root, nil
	}
	return 0, [32]byte{}, errors.New("checkpoint: no signature by the log key")
}
