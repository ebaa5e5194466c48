package attest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

// ErrSubjectMismatch is returned when a statement does not name the artifact it is attached
// to or verified against.
var ErrSubjectMismatch = errors.New("statement subject does not match")

// Subject is one thing a statement is about: a name and its SHA-256 digest (hex).
type Subject struct {
	Name   string
	SHA256 string
}

type subjectJSON struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

type statementJSON struct {
	Type          string          `json:"_type"`
	Subject       []subjectJSON   `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// NewStatement returns an in-toto v1 statement (https://in-toto.io/Statement/v1) about
// subjects, with the given predicate type and predicate (a JSON object, as BuildPredicate
// returns it). The predicate's bytes are copied into the statement as they are (whitespace
// included), never re-encoded through an object model, so a large SBOM costs one more copy of
// itself and no more.
func NewStatement(subjects []Subject, predicateType string, predicate []byte) ([]byte, error) {
	if len(subjects) == 0 {
		return nil, fmt.Errorf("%w: no subject", bundle.ErrInvalidStatement)
	}
	if _, err := PredicateType(predicateType); err != nil {
		return nil, fmt.Errorf("%w: predicateType: %w", bundle.ErrInvalidStatement, err)
	}
	head := statementHead{Type: bundle.StatementTypeV1, PredicateType: predicateType}
	for _, s := range subjects {
		if b, err := hex.DecodeString(s.SHA256); err != nil || len(b) != 32 || strings.ToLower(s.SHA256) != s.SHA256 {
			return nil, fmt.Errorf("%w: subject %q: digest %q is not 64 lowercase hex characters", bundle.ErrInvalidStatement, s.Name, s.SHA256)
		}
		head.Subject = append(head.Subject, subjectJSON{Name: s.Name, Digest: map[string]string{"sha256": s.SHA256}})
	}
	p := bytes.TrimSpace(predicate)
	if len(p) == 0 || p[0] != '{' || !json.Valid(p) {
		return nil, fmt.Errorf("%w: the predicate is not a JSON object", bundle.ErrInvalidStatement)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(head); err != nil {
		return nil, fmt.Errorf("%w: %w", bundle.ErrInvalidStatement, err)
	}
	// {"_type":...,"predicateType":"..."}\n -> {"_type":...,"predicateType":"...","predicate":<p>}
	h := bytes.TrimSuffix(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("}"))
	const key = `,"predicate":`
	out := make([]byte, 0, len(h)+len(key)+len(p)+1)
	out = append(out, h...)
	out = append(out, key...)
	out = append(out, p...)
	return append(out, '}'), nil
}

// statementHead is a statement without its predicate, fields in in-toto's order.
type statementHead struct {
	Type          string        `json:"_type"`
	Subject       []subjectJSON `json:"subject"`
	PredicateType string        `json:"predicateType"`
}

// StatementInfo is what CheckStatement read from a statement.
type StatementInfo struct {
	// PredicateType is the statement's predicate type.
	PredicateType string
	// Predicate is the predicate's JSON.
	Predicate json.RawMessage
	// Subjects are the statement's subjects with a sha256 digest.
	Subjects []Subject
}

// ParseStatementInfo reads a statement's predicate type, predicate and subjects. It checks the
// statement as bundle.ParseStatement does (type, subjects, digests) and that the predicate
// parses as its type says (CheckPredicate).
func ParseStatementInfo(statement []byte) (*StatementInfo, error) {
	if _, err := bundle.ParseStatement(statement); err != nil {
		return nil, err
	}
	return ReadStatementInfo(statement)
}

// ReadStatementInfo reads a statement's predicate type, predicate and subjects with
// encoding/json alone, and checks that the predicate parses as its type says. It does not check
// the statement's structure: use it on a statement bundle.ParseStatement (or the verifier) has
// already accepted, to avoid parsing a large statement through protojson twice.
func ReadStatementInfo(statement []byte) (*StatementInfo, error) {
	var st statementJSON
	if err := json.Unmarshal(statement, &st); err != nil {
		return nil, fmt.Errorf("%w: %w", bundle.ErrInvalidStatement, err)
	}
	info := &StatementInfo{PredicateType: st.PredicateType, Predicate: st.Predicate}
	for _, s := range st.Subject {
		if d, ok := s.Digest["sha256"]; ok {
			info.Subjects = append(info.Subjects, Subject{Name: s.Name, SHA256: strings.ToLower(d)})
		}
	}
	if err := CheckPredicate(st.PredicateType, st.Predicate); err != nil {
		return nil, err
	}
	return info, nil
}

// RequireSubject fails with ErrSubjectMismatch unless one of the statement's subjects has the
// SHA-256 digest digestHex.
func (i *StatementInfo) RequireSubject(digestHex string) error {
	var seen []string
	for _, s := range i.Subjects {
		if s.SHA256 == strings.ToLower(digestHex) {
			return nil
		}
		seen = append(seen, "sha256:"+s.SHA256)
	}
	return fmt.Errorf("%w: the statement is about [%s], not sha256:%s", ErrSubjectMismatch, strings.Join(seen, ", "), digestHex)
}
