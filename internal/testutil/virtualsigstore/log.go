package virtualsigstore

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// Log is a Rekor v2-style transparency log: entries in an RFC 6962 Merkle tree, checkpoints
// signed as C2SP signed notes with an Ed25519 key whose name is the origin.
type Log struct {
	// Origin is the checkpoint origin: the host of BaseURL.
	Origin  string
	BaseURL string
	Public  ed25519.PublicKey
	// ID is the C2SP key ID of the checkpoint key, the log's logId.
	ID   [32]byte
	key  ed25519.PrivateKey
	tree *testonly.Tree
}

// NewLog makes an empty log served at https://<origin>.
func NewLog(origin string) (*Log, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Log{
		Origin: origin, BaseURL: "https://" + origin, Public: pub,
		ID: tlog.Ed25519KeyID(origin, pub), key: priv, tree: testonly.New(rfc6962.DefaultHasher),
	}, nil
}

// Verifier is the signer's certificate (leaf) or, without one, its public key.
type Verifier struct {
	Certificate *x509.Certificate
	PublicKey   []byte // PKIX DER
}

func (v Verifier) json() map[string]any {
	if v.Certificate != nil {
		return map[string]any{"keyDetails": "PKIX_ECDSA_P256_SHA_256", "x509Certificate": map[string]any{"rawBytes": v.Certificate.Raw}}
	}
	return map[string]any{"keyDetails": "PKIX_ECDSA_P256_SHA_256", "publicKey": map[string]any{"rawBytes": v.PublicKey}}
}

// HashedRekordBody returns the canonical hashedrekord 0.0.2 body over a digest made with alg
// (SHA2_256, SHA2_384 or SHA2_512).
func HashedRekordBody(alg string, digest, signature []byte, v Verifier) ([]byte, error) {
	return json.Marshal(map[string]any{
		"apiVersion": "0.0.2",
		"kind":       "hashedrekord",
		"spec": map[string]any{"hashedRekordV002": map[string]any{
			"data":      map[string]any{"algorithm": alg, "digest": digest},
			"signature": map[string]any{"content": signature, "verifier": v.json()},
		}},
	})
}

// Append adds an entry body to the tree and returns a transparency log entry with an inclusion
// proof under a freshly signed checkpoint.
func (l *Log) Append(body []byte, kind, version string) (*protorekor.TransparencyLogEntry, error) {
	l.tree.AppendData(body)
	index := l.tree.Size() - 1
	return l.Entry(index, body, kind, version)
}

// Entry returns the entry at index (whose body is body) proved against the current tree.
func (l *Log) Entry(index uint64, body []byte, kind, version string) (*protorekor.TransparencyLogEntry, error) {
	size := l.tree.Size()
	proof, err := l.tree.InclusionProof(index, size)
	if err != nil {
		return nil, err
	}
	root := l.tree.Hash()
	return &protorekor.TransparencyLogEntry{
		LogIndex:    int64(index),
		LogId:       &protocommon.LogId{KeyId: l.ID[:]},
		KindVersion: &protorekor.KindVersion{Kind: kind, Version: version},
		InclusionProof: &protorekor.InclusionProof{
			LogIndex:   int64(index),
			RootHash:   root,
			TreeSize:   int64(size),
			Hashes:     proof,
			Checkpoint: &protorekor.Checkpoint{Envelope: l.Checkpoint(size, root)},
		},
		CanonicalizedBody: body,
	}, nil
}

// Checkpoint returns a signed note committing to the tree of size with root hash root.
func (l *Log) Checkpoint(size uint64, root []byte) string {
	body := fmt.Sprintf("%s\n%s\n%s\n", l.Origin, strconv.FormatUint(size, 10), base64.StdEncoding.EncodeToString(root))
	sig := ed25519.Sign(l.key, []byte(body))
	return body + "\n\u2014 " + l.Origin + " " + base64.StdEncoding.EncodeToString(append(l.ID[:4:4], sig...)) + "\n"
}

// DSSEBody returns the canonical dsse 0.0.2 body of a DSSE envelope with one signature:
// the SHA-256 of its payload and the signature with its verifier.
func DSSEBody(payloadSHA256, signature []byte, v Verifier) ([]byte, error) {
	return json.Marshal(map[string]any{
		"apiVersion": "0.0.2",
		"kind":       "dsse",
		"spec": map[string]any{"dsseV002": map[string]any{
			"payloadHash": map[string]any{"algorithm": "SHA2_256", "digest": payloadSHA256},
			"signatures":  []any{map[string]any{"content": signature, "verifier": v.json()}},
		}},
	})
}
