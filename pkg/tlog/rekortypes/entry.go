package rekortypes

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is the family of every error this package returns: a proposed entry or body that
// is malformed, of a kind, version or format the log does not accept, or whose signature does
// not verify.
var ErrInvalid = errors.New("invalid Rekor entry")

// Entry is a Rekor v1 entry: accepted by Canonicalize or read back from the log by Parse.
type Entry struct {
	// Kind and APIVersion name the entry type: "hashedrekord" "0.0.1", "rekord" "0.0.1",
	// "dsse" "0.0.1" or "intoto" "0.0.2".
	Kind, APIVersion string
	// Body is the canonical body, byte for byte what Rekor v1.5 stores; the entry's leaf hash is
	// the RFC 6962 leaf hash of Body.
	Body []byte
	// IndexKeys are the search index keys Rekor's IndexKeys gives for the entry, lowercased as
	// Rekor's index storage writes them: the SHA-256 (hex) of the canonical public key
	// ("sha256:" before it for dsse and intoto, as Rekor writes those), the certificate's subject
	// alternative names, and "<algorithm>:<hex>" artifact, payload and envelope hashes.
	IndexKeys []string
}

// Limits bound what Canonicalize reads.
type Limits struct {
	// MaxBody bounds the proposed entry in bytes, envelopes and inline artifacts included;
	// zero or less means DefaultMaxBody.
	MaxBody int64
}

// DefaultMaxBody is the bound on a proposed entry when Limits.MaxBody is not set.
const DefaultMaxBody = 32 << 20

// maxSignatures bounds the signatures of a DSSE envelope and the verifiers proposed with it:
// each key is tried against each signature.
const maxSignatures = 16

// kindImpl is one accepted entry type.
type kindImpl struct {
	kind, version string
	// canonicalize checks the proposed spec and returns the canonical spec, and index keys
	// that only the proposed entry yields (those of a DSSE payload the body does not keep).
	canonicalize func(spec node) (obj, []string, error)
	// indexKeys computes Rekor's index keys from a canonical spec.
	indexKeys func(spec node) ([]string, error)
}

var kinds = []kindImpl{
	{"hashedrekord", "0.0.1", canonicalizeHashedRekord, hashedRekordKeys},
	{"rekord", "0.0.1", canonicalizeRekord, rekordKeys},
	{"dsse", "0.0.1", canonicalizeDSSE, dsseKeys},
	{"intoto", "0.0.2", canonicalizeIntoto, intotoKeys},
}

func acceptedKinds() string {
	var s []string
	for _, k := range kinds {
		s = append(s, k.kind+" "+k.version)
	}
	return strings.Join(s, ", ")
}

// header reads kind, apiVersion and spec of a proposed entry or body.
func header(doc node) (*kindImpl, node, error) {
	kind, _, err := doc.str("kind")
	if err != nil {
		return nil, node{}, err
	}
	version, _, err := doc.str("apiVersion")
	if err != nil {
		return nil, node{}, err
	}
	var impl *kindImpl
	for i := range kinds {
		if kinds[i].kind == kind {
			impl = &kinds[i]
		}
	}
	switch {
	case kind == "":
		return nil, node{}, fmt.Errorf("%w: missing kind (accepted: %s)", ErrInvalid, acceptedKinds())
	case impl == nil:
		return nil, node{}, fmt.Errorf("%w: unknown kind %q (accepted: %s)", ErrInvalid, kind, acceptedKinds())
	case version != impl.version:
		return nil, node{}, fmt.Errorf("%w: %s apiVersion %q is not accepted (accepted: %s)", ErrInvalid, kind, version, acceptedKinds())
	}
	spec, err := doc.needObject("spec")
	return impl, spec, err
}

// Canonicalize checks a proposed entry as Rekor v1.5 does before it logs it, and returns the
// entry Rekor would store. Every signature is verified; content is taken inline only, and a
// field named "url" anywhere is refused.
func Canonicalize(proposed []byte, lim Limits) (*Entry, error) {
	max := lim.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	if int64(len(proposed)) > max {
		return nil, fmt.Errorf("%w: proposed entry of %d bytes exceeds the limit of %d", ErrInvalid, len(proposed), max)
	}
	doc, err := decodeJSON("proposed entry", proposed)
	if err != nil {
		return nil, err
	}
	if err := refuseURLs(nil, doc.m); err != nil {
		return nil, err
	}
	impl, spec, err := header(doc)
	if err != nil {
		return nil, err
	}
	canon, extra, err := impl.canonicalize(spec)
	if err != nil {
		return nil, err
	}
	body, err := canonicalJSON(obj{"apiVersion": impl.version, "kind": impl.kind, "spec": canon})
	if err != nil {
		return nil, err
	}
	e, err := Parse(body)
	if err != nil {
		return nil, fmt.Errorf("reading back the canonical %s entry: %w", impl.kind, err)
	}
	for _, k := range extra {
		e.IndexKeys = append(e.IndexKeys, strings.ToLower(k))
	}
	return e, nil
}

// Parse reads a canonical body from the log and recomputes its index keys. A body that is not
// in canonical form, or not of an accepted kind and version, is refused. A dsse or intoto body
// does not keep its payload, so the keys of the payload's subjects are not among those Parse
// gives: Rekor's IndexKeys cannot give them either.
func Parse(body []byte) (*Entry, error) {
	doc, err := decodeJSON("entry body", body)
	if err != nil {
		return nil, err
	}
	impl, spec, err := header(doc)
	if err != nil {
		return nil, err
	}
	canon, err := canonicalJSON(doc.m)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canon, body) {
		return nil, fmt.Errorf("%w: %s body is not in canonical (RFC 8785) form", ErrInvalid, impl.kind)
	}
	keys, err := impl.indexKeys(spec)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		keys[i] = strings.ToLower(k)
	}
	return &Entry{Kind: impl.kind, APIVersion: impl.version, Body: body, IndexKeys: keys}, nil
}
