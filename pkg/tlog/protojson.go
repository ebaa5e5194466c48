package tlog

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	commonv1 "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
)

// This file reads the JSON of Rekor v2 requests and entries the way protojson does: fields by
// their JSON (lowerCamel) or proto (snake_case) names, bytes in standard or URL-safe base64 with
// or without padding, enums by name or number, null as absent, unknown fields rejected.

// jsonObject is one decoded JSON object with protojson field lookup. The whole document is
// decoded in one pass (encoding/json into maps), then walked.
type jsonObject struct {
	path   string
	fields map[string]any
	used   map[string]bool
}

// decodeObject decodes a JSON document that must be an object (or null).
func decodeObject(path string, raw []byte) (*jsonObject, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidRequest, path, err)
	}
	return asObject(path, v)
}

func asObject(path string, v any) (*jsonObject, error) {
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return &jsonObject{path: path, fields: m, used: make(map[string]bool, len(m))}, nil
	}
	return nil, fmt.Errorf("%w: %s: want a JSON object, got %s", ErrInvalidRequest, path, jsonKind(v))
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "an object"
}

// field returns the value of the field named jsonName or protoName; nil when absent or null.
func (o *jsonObject) field(jsonName, protoName string) (any, error) {
	if o == nil {
		return nil, nil
	}
	a, okA := o.fields[jsonName]
	b, okB := o.fields[protoName]
	if okA && okB && jsonName != protoName {
		return nil, fmt.Errorf("%w: %s: both %q and %q are set", ErrInvalidRequest, o.path, jsonName, protoName)
	}
	o.used[jsonName], o.used[protoName] = true, true
	if okB {
		a = b
	}
	return a, nil
}

func (o *jsonObject) object(jsonName, protoName string) (*jsonObject, error) {
	if o == nil {
		return nil, nil
	}
	v, err := o.field(jsonName, protoName)
	if err != nil {
		return nil, err
	}
	return asObject(o.path+"."+jsonName, v)
}

func (o *jsonObject) bytes(jsonName, protoName string) ([]byte, error) {
	v, err := o.field(jsonName, protoName)
	if err != nil || v == nil {
		return nil, err
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%w: %s.%s: want a base64 string, got %s", ErrInvalidRequest, o.path, jsonName, jsonKind(v))
	}
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if len(s)%4 != 0 {
		enc = enc.WithPadding(base64.NoPadding)
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s.%s: bad base64: %v", ErrInvalidRequest, o.path, jsonName, err)
	}
	return b, nil
}

func (o *jsonObject) str(jsonName, protoName string) (string, error) {
	v, err := o.field(jsonName, protoName)
	if err != nil || v == nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %s.%s: want a string, got %s", ErrInvalidRequest, o.path, jsonName, jsonKind(v))
	}
	return s, nil
}

// enum reads a protobuf enum by name or number.
func (o *jsonObject) enum(jsonName, protoName string, values map[string]int32, names map[int32]string) (int32, error) {
	v, err := o.field(jsonName, protoName)
	if err != nil || v == nil {
		return 0, err
	}
	switch x := v.(type) {
	case string:
		n, ok := values[x]
		if !ok {
			return 0, fmt.Errorf("%w: %s.%s: unknown value %q", ErrInvalidRequest, o.path, jsonName, x)
		}
		return n, nil
	case float64:
		n := int32(x)
		if float64(n) != x {
			return 0, fmt.Errorf("%w: %s.%s: %v is not an enum number", ErrInvalidRequest, o.path, jsonName, x)
		}
		if _, ok := names[n]; !ok {
			return 0, fmt.Errorf("%w: %s.%s: unknown value %d", ErrInvalidRequest, o.path, jsonName, n)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%w: %s.%s: want an enum name or number, got %s", ErrInvalidRequest, o.path, jsonName, jsonKind(v))
}

// allow rejects fields other than names (JSON and proto names).
func (o *jsonObject) allow(names ...string) error {
	if o == nil {
		return nil
	}
	for k := range o.fields {
		known := false
		for _, n := range names {
			known = known || k == n
		}
		if !known {
			return fmt.Errorf("%w: %s: unknown field %q", ErrInvalidRequest, o.path, k)
		}
	}
	return nil
}

// done rejects fields that were never looked up.
func (o *jsonObject) done() error {
	if o == nil {
		return nil
	}
	for k := range o.fields {
		if !o.used[k] {
			return fmt.Errorf("%w: %s: unknown field %q", ErrInvalidRequest, o.path, k)
		}
	}
	return nil
}

// array returns the elements of the repeated field named jsonName or protoName; nil when absent
// or null.
func (o *jsonObject) array(jsonName, protoName string) ([]any, error) {
	v, err := o.field(jsonName, protoName)
	if err != nil || v == nil {
		return nil, err
	}
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s.%s: want an array, got %s", ErrInvalidRequest, o.path, jsonName, jsonKind(v))
	}
	return a, nil
}

// readSignature reads a rekor v2 Signature message into r.
func readSignature(o *jsonObject, r *HashedRekordRequest) error {
	sig, err := o.object("signature", "signature")
	if err != nil {
		return err
	}
	if sig == nil {
		return fmt.Errorf("%w: missing signature", ErrInvalidRequest)
	}
	if err := sig.allow("content", "verifier"); err != nil {
		return err
	}
	if r.Signature, err = sig.bytes("content", "content"); err != nil {
		return err
	}
	v, err := sig.object("verifier", "verifier")
	if err != nil {
		return err
	}
	if v == nil {
		return fmt.Errorf("%w: missing signature.verifier", ErrInvalidRequest)
	}
	if err := readVerifier(v, r); err != nil {
		return err
	}
	return sig.done()
}

// readVerifier reads a rekor v2 Verifier message (a public key or a certificate, and the key
// details) into r.
func readVerifier(v *jsonObject, r *HashedRekordRequest) error {
	if err := v.allow("publicKey", "public_key", "x509Certificate", "x509_certificate", "keyDetails", "key_details"); err != nil {
		return err
	}
	pk, err := v.object("publicKey", "public_key")
	if err != nil {
		return err
	}
	cert, err := v.object("x509Certificate", "x509_certificate")
	if err != nil {
		return err
	}
	switch {
	case pk != nil && cert != nil:
		return fmt.Errorf("%w: verifier has both publicKey and x509Certificate", ErrInvalidRequest)
	case pk != nil:
		r.Verifier, err = pk.bytes("rawBytes", "raw_bytes")
		if err == nil {
			err = pk.done()
		}
	case cert != nil:
		r.IsCertificate = true
		r.Verifier, err = cert.bytes("rawBytes", "raw_bytes")
		if err == nil {
			err = cert.done()
		}
	default:
		return fmt.Errorf("%w: verifier has neither publicKey nor x509Certificate", ErrInvalidRequest)
	}
	if err != nil {
		return err
	}
	kd, err := v.enum("keyDetails", "key_details", commonv1.PublicKeyDetails_value, commonv1.PublicKeyDetails_name)
	if err != nil {
		return err
	}
	r.KeyDetails = commonv1.PublicKeyDetails(kd)
	return v.done()
}

// ParseCreateEntryRequest reads a create-entry request body as rekor-tiles defines it: either
// {"hashedRekordRequestV002": {"digest": ..., "signature": {"content": ..., "verifier": {...}}}}
// or {"dsseRequestV002": {"envelope": {...}, "verifiers": [{...}]}}. A DSSE request becomes the
// hashedrekord request a verifier rebuilds from the envelope (see readDSSERequest). It checks the
// structure only; call Verify to check the signature.
func ParseCreateEntryRequest(body []byte) (*HashedRekordRequest, error) {
	top, err := decodeObject("request", body)
	if err != nil {
		return nil, err
	}
	if top == nil {
		return nil, fmt.Errorf("%w: empty request", ErrInvalidRequest)
	}
	hr, err := top.object("hashedRekordRequestV002", "hashed_rekord_request_v002")
	if err != nil {
		return nil, err
	}
	dsse, err := top.object("dsseRequestV002", "dsse_request_v002")
	if err != nil {
		return nil, err
	}
	if err := top.done(); err != nil {
		return nil, fmt.Errorf("%w (hashedRekordRequestV002 and dsseRequestV002 are accepted)", err)
	}
	switch {
	case hr != nil && dsse != nil:
		return nil, fmt.Errorf("%w: request has both hashedRekordRequestV002 and dsseRequestV002", ErrInvalidRequest)
	case dsse != nil:
		return readDSSERequest(dsse)
	case hr == nil:
		return nil, fmt.Errorf("%w: missing hashedRekordRequestV002 or dsseRequestV002", ErrInvalidRequest)
	}
	if err := hr.allow("digest", "signature"); err != nil {
		return nil, err
	}
	r := &HashedRekordRequest{}
	if r.Digest, err = hr.bytes("digest", "digest"); err != nil {
		return nil, err
	}
	if err := readSignature(hr, r); err != nil {
		return nil, err
	}
	if err := hr.done(); err != nil {
		return nil, err
	}
	return r, nil
}

// ParseHashedRekordEntry reads a log entry (canonicalized body) of kind hashedrekord 0.0.2 back
// into the request it was made from. It checks the structure and that the digest algorithm agrees
// with the key details; it does not verify the signature.
func ParseHashedRekordEntry(body []byte) (*HashedRekordRequest, error) {
	top, err := decodeObject("entry", body)
	if err != nil {
		return nil, err
	}
	if top == nil {
		return nil, fmt.Errorf("%w: empty entry", ErrInvalidRequest)
	}
	kind, err := top.str("kind", "kind")
	if err != nil {
		return nil, err
	}
	version, err := top.str("apiVersion", "api_version")
	if err != nil {
		return nil, err
	}
	if kind != HashedRekordKind || version != HashedRekordVersion {
		return nil, fmt.Errorf("%w: entry kind %q version %q, want %s %s", ErrInvalidRequest, kind, version, HashedRekordKind, HashedRekordVersion)
	}
	spec, err := top.object("spec", "spec")
	if err != nil {
		return nil, err
	}
	hr, err := spec.object("hashedRekordV002", "hashed_rekord_v002")
	if err != nil {
		return nil, err
	}
	if hr == nil {
		return nil, fmt.Errorf("%w: missing spec.hashedRekordV002", ErrInvalidRequest)
	}
	data, err := hr.object("data", "data")
	if err != nil {
		return nil, err
	}
	r := &HashedRekordRequest{}
	if r.Digest, err = data.bytes("digest", "digest"); err != nil {
		return nil, err
	}
	alg, err := data.enum("algorithm", "algorithm", commonv1.HashAlgorithm_value, commonv1.HashAlgorithm_name)
	if err != nil {
		return nil, err
	}
	if err := readSignature(hr, r); err != nil {
		return nil, err
	}
	for _, o := range []*jsonObject{data, hr, spec, top} {
		if err := o.done(); err != nil {
			return nil, err
		}
	}
	if want := hashAlgorithm(r.KeyDetails); commonv1.HashAlgorithm(alg) != want {
		return nil, fmt.Errorf("%w: digest algorithm %s does not match keyDetails %s", ErrInvalidRequest, commonv1.HashAlgorithm(alg), r.KeyDetails)
	}
	return r, nil
}
