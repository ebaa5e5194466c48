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
// included), never re-encoded through an object model.
func NewStatement(subjects []Subject, predicateType string, predicate []byte) ([]byte, error) {
	head, p, tail, err := NewStatementParts(subjects, predicateType, predicate)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(head)+len(p)+len(tail))
	return append(append(append(out, head...), p...), tail...), nil
}

// NewStatementParts is NewStatement without the copy: the statement is the concatenation of
// head, pred and tail, where pred is predicate itself (surrounding whitespace trimmed). A
// caller that streams the statement (into a hash, into an upload) never holds a large
// predicate twice.
func NewStatementParts(subjects []Subject, predicateType string, predicate []byte) (head, pred, tail []byte, err error) {
	if len(subjects) == 0 {
		return nil, nil, nil, fmt.Errorf("%w: no subject", bundle.ErrInvalidStatement)
	}
	if _, err := PredicateType(predicateType); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: predicateType: %w", bundle.ErrInvalidStatement, err)
	}
	h := statementHead{Type: bundle.StatementTypeV1, PredicateType: predicateType}
	for _, s := range subjects {
		if b, err := hex.DecodeString(s.SHA256); err != nil || len(b) != 32 || strings.ToLower(s.SHA256) != s.SHA256 {
			return nil, nil, nil, fmt.Errorf("%w: subject %q: digest %q is not 64 lowercase hex characters", bundle.ErrInvalidStatement, s.Name, s.SHA256)
		}
		h.Subject = append(h.Subject, subjectJSON{Name: s.Name, Digest: map[string]string{"sha256": s.SHA256}})
	}
	pred = bytes.TrimSpace(predicate)
	if len(pred) == 0 || pred[0] != '{' || !json.Valid(pred) {
		return nil, nil, nil, fmt.Errorf("%w: the predicate is not a JSON object", bundle.ErrInvalidStatement)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(h); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", bundle.ErrInvalidStatement, err)
	}
	// {"_type":...,"predicateType":"..."}\n -> {"_type":...,"predicateType":"...","predicate":<pred>}
	head = bytes.TrimSuffix(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("}"))
	head = append(head, `,"predicate":`...)
	return head, pred, []byte("}"), nil
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
