package virtualsigstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

// V1Log is a Rekor v1-style log: an ECDSA P-256 key that signs checkpoints (origin
// "<host> - <tree ID>") and signed entry timestamps (SETs) promising inclusion at a time.
type V1Log struct {
	Host    string
	BaseURL string
	TreeID  int64
	Key     *ecdsa.PrivateKey
	// ID is SHA-256 of the PKIX public key, the log's logId.
	ID   [32]byte
	tree *testonly.Tree
}

// NewV1Log makes an empty Rekor v1-style log served at https://<host>.
func NewV1Log(host string) (*V1Log, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return nil, err
	}
	return &V1Log{Host: host, BaseURL: "https://" + host, TreeID: 1234567890, Key: k, ID: sha256.Sum256(der), tree: testonly.New(rfc6962.DefaultHasher)}, nil
}

// HashedRekordV001Body returns a Rekor v1 hashedrekord body: the hex SHA-256 digest, the
// signature and the PEM of the certificate or public key (both base64, as Rekor writes them).
func HashedRekordV001Body(digest, signature []byte, v Verifier) ([]byte, error) {
	var block *pem.Block
	if v.Certificate != nil {
		block = &pem.Block{Type: "CERTIFICATE", Bytes: v.Certificate.Raw}
	} else {
		block = &pem.Block{Type: "PUBLIC KEY", Bytes: v.PublicKey}
	}
	return json.Marshal(map[string]any{
		"apiVersion": "0.0.1",
		"kind":       "hashedrekord",
		"spec": map[string]any{
			"data":      map[string]any{"hash": map[string]any{"algorithm": "sha256", "value": hex.EncodeToString(digest)}},
			"signature": map[string]any{"content": signature, "publicKey": map[string]any{"content": pem.EncodeToMemory(block)}},
		},
	})
}

// Append logs body (of the given kind and version), integrated at the given time, and returns
// the entry with its SET and an inclusion proof under a signed checkpoint.
func (l *V1Log) Append(body []byte, kind, version string, integrated time.Time) (*protorekor.TransparencyLogEntry, error) {
	l.tree.AppendData(body)
	index := l.tree.Size() - 1
	size := l.tree.Size()
	proof, err := l.tree.InclusionProof(index, size)
	if err != nil {
		return nil, err
	}
	root := l.tree.Hash()
	set, err := l.SET(body, integrated.Unix(), int64(index))
	if err != nil {
		return nil, err
	}
	cp, err := l.Checkpoint(size, root)
	if err != nil {
		return nil, err
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:         int64(index),
		LogId:            &protocommon.LogId{KeyId: l.ID[:]},
		KindVersion:      &protorekor.KindVersion{Kind: kind, Version: version},
		IntegratedTime:   integrated.Unix(),
		InclusionPromise: &protorekor.InclusionPromise{SignedEntryTimestamp: set},
		InclusionProof: &protorekor.InclusionProof{
			LogIndex: int64(index), RootHash: root, TreeSize: int64(size), Hashes: proof,
			Checkpoint: &protorekor.Checkpoint{Envelope: cp},
		},
		CanonicalizedBody: body,
	}, nil
}

// SETPayload is the canonical JSON a SET signs.
func (l *V1Log) SETPayload(body []byte, integratedTime, logIndex int64) []byte {
	b, _ := json.Marshal(base64.StdEncoding.EncodeToString(body))
	return fmt.Appendf(nil, `{"body":%s,"integratedTime":%d,"logID":"%s","logIndex":%d}`, b, integratedTime, hex.EncodeToString(l.ID[:]), logIndex)
}

// SET signs the inclusion promise for an entry.
func (l *V1Log) SET(body []byte, integratedTime, logIndex int64) ([]byte, error) {
	sum := sha256.Sum256(l.SETPayload(body, integratedTime, logIndex))
	return ecdsa.SignASN1(rand.Reader, l.Key, sum[:])
}

// Checkpoint returns a Rekor v1 signed checkpoint for the tree of size with root hash root.
func (l *V1Log) Checkpoint(size uint64, root []byte) (string, error) {
	body := fmt.Sprintf("%s - %d\n%d\n%s\n", l.Host, l.TreeID, size, base64.StdEncoding.EncodeToString(root))
	sum := sha256.Sum256([]byte(body))
	sig, err := ecdsa.SignASN1(rand.Reader, l.Key, sum[:])
	if err != nil {
		return "", err
	}
	return body + "\n\u2014 " + l.Host + " " + base64.StdEncoding.EncodeToString(append(l.ID[:4:4], sig...)) + "\n", nil
}

// IntotoV002Body returns a Rekor v1 intoto 0.0.2 body for a DSSE envelope with one signature,
// encoded as Rekor writes it (the signature base64-encoded twice, the verifier as PEM).
func IntotoV002Body(payloadType string, payload, signature []byte, v Verifier) ([]byte, error) {
	block := &pem.Block{Type: "PUBLIC KEY", Bytes: v.PublicKey}
	if v.Certificate != nil {
		block = &pem.Block{Type: "CERTIFICATE", Bytes: v.Certificate.Raw}
	}
	sum := sha256.Sum256(payload)
	return json.Marshal(map[string]any{
		"apiVersion": "0.0.2",
		"kind":       "intoto",
		"spec": map[string]any{"content": map[string]any{
			"envelope": map[string]any{
				"payloadType": payloadType,
				"signatures":  []any{map[string]any{"sig": []byte(base64.StdEncoding.EncodeToString(signature)), "publicKey": pem.EncodeToMemory(block)}},
			},
			"payloadHash": map[string]any{"algorithm": "sha256", "value": hex.EncodeToString(sum[:])},
		}},
	})
}
