package bundle

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	intotov1 "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// PayloadTypeInToto is the DSSE payloadType of in-toto statements.
const PayloadTypeInToto = "application/vnd.in-toto+json"

// PredicateCosignSign is the predicate type of the statement cosign v3 signs for an image.
const PredicateCosignSign = "https://sigstore.dev/cosign/sign/v1"

// Statement types ParseStatement accepts.
const (
	StatementTypeV1  = "https://in-toto.io/Statement/v1"
	StatementTypeV01 = "https://in-toto.io/Statement/v0.1"
)

// MaxStatementSize is the largest in-toto statement ParseStatement reads, in bytes.
// A bundle of MaxBundleSize holds a base64 payload of about three quarters of it.
const MaxStatementSize = 96 << 20

// ErrInvalidStatement is wrapped by every error ParseStatement returns.
var ErrInvalidStatement = errors.New("invalid in-toto statement")

// PAE returns the DSSE pre-authentication encoding of a payload: the bytes a DSSE signature
// is made over.
func PAE(payloadType string, payload []byte) []byte {
	return dsse.PAE(payloadType, payload)
}

// NewEnvelope returns a DSSE envelope with one signature. The keyid is left empty, as cosign
// v3 and sigstore-go write it.
func NewEnvelope(payloadType string, payload, sig []byte) *protodsse.Envelope {
	return &protodsse.Envelope{
		Payload:     payload,
		PayloadType: payloadType,
		Signatures:  []*protodsse.Signature{{Sig: sig}},
	}
}

// NewImageStatement returns the in-toto statement cosign v3 signs for an image: predicateType
// PredicateCosignSign, an empty predicate, and one subject carrying the manifest digest
// {"sha256": digestHex} and the signer's annotations (an empty object when there are none).
// cosign v3 records no subject name; repo is checked to be non-empty but, to keep the bytes
// identical to cosign's, not written.
func NewImageStatement(repo string, digestHex string, annotations map[string]string) ([]byte, error) {
	if strings.TrimSpace(repo) == "" {
		return nil, fmt.Errorf("%w: empty repository", ErrInvalidStatement)
	}
	if b, err := hex.DecodeString(digestHex); err != nil || len(b) != 32 {
		return nil, fmt.Errorf("%w: manifest digest %q is not 64 hex characters", ErrInvalidStatement, digestHex)
	}
	fields := make(map[string]any, len(annotations))
	for k, v := range annotations {
		fields[k] = v
	}
	annos, err := structpb.NewStruct(fields)
	if err != nil {
		return nil, fmt.Errorf("%w: annotations: %w", ErrInvalidStatement, err)
	}
	subject := &intotov1.ResourceDescriptor{
		Digest:      map[string]string{"sha256": digestHex},
		Annotations: annos,
	}
	return marshalStatement(&intotov1.Statement{
		Type:          intotov1.StatementTypeUri,
		Subject:       []*intotov1.ResourceDescriptor{subject},
		PredicateType: PredicateCosignSign,
		Predicate:     &structpb.Struct{Fields: map[string]*structpb.Value{}},
	})
}

// NewStatement returns an in-toto v1 statement over subjects with the given predicate (a JSON
// object).
func NewStatement(subjects []*intotov1.ResourceDescriptor, predicateType string, predicateJSON []byte) ([]byte, error) {
	pred := &structpb.Struct{}
	if err := protojson.Unmarshal(predicateJSON, pred); err != nil {
		return nil, fmt.Errorf("%w: predicate is not a JSON object: %w", ErrInvalidStatement, err)
	}
	return marshalStatement(&intotov1.Statement{
		Type:          intotov1.StatementTypeUri,
		Subject:       subjects,
		PredicateType: predicateType,
		Predicate:     pred,
	})
}

func marshalStatement(st *intotov1.Statement) ([]byte, error) {
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidStatement, err)
	}
	out, err := marshalProtoJSON(st)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidStatement, err)
	}
	return out, nil
}

// ParseStatement reads an in-toto statement: at most MaxStatementSize bytes, _type
// StatementTypeV1 or StatementTypeV01, at least one subject with a well-formed digest, a
// predicateType and a predicate. Unknown top-level fields are refused.
func ParseStatement(payload []byte) (*intotov1.Statement, error) {
	if len(payload) > MaxStatementSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrInvalidStatement, len(payload), MaxStatementSize)
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		return nil, fmt.Errorf("%w: empty payload", ErrInvalidStatement)
	}
	st := &intotov1.Statement{}
	if err := protojson.Unmarshal(payload, st); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidStatement, err)
	}
	if t := st.GetType(); t != StatementTypeV1 && t != StatementTypeV01 {
		return nil, fmt.Errorf("%w: _type %q (want %s or %s)", ErrInvalidStatement, t, StatementTypeV1, StatementTypeV01)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidStatement, err)
	}
	return st, nil
}
