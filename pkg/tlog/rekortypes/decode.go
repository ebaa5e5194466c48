package rekortypes

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// node is one decoded JSON object of a proposed entry or body, with the path that names it in
// errors ("spec.signature.publicKey"). Fields are read as Rekor's DecodeEntry reads them: a
// null or absent field is missing, and base64 is standard with padding; unlike Rekor, a field of
// the wrong JSON type is an error rather than silently missing.
type node struct {
	path string
	m    map[string]any
}

// Bounds on the shape of a proposed entry or body, checked before it is decoded: an entry has a
// few dozen JSON values (a few hundred for an envelope with many signatures), so that decoding
// holds little more than the input's strings.
const (
	maxJSONDepth  = 32
	maxJSONTokens = 4096
)

// checkJSONShape counts the structural tokens and the nesting depth of data without decoding it.
func checkJSONShape(what string, data []byte) error {
	depth, tokens := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > maxJSONDepth {
				return fmt.Errorf("%w: %s nests deeper than %d levels", ErrInvalid, what, maxJSONDepth)
			}
		case c == '}' || c == ']':
			depth--
		case c == ',' || c == ':':
		default:
			continue
		}
		if tokens++; tokens > maxJSONTokens {
			return fmt.Errorf("%w: %s has more than %d JSON values", ErrInvalid, what, maxJSONTokens)
		}
	}
	return nil
}

// decodeJSON decodes one JSON object, refusing trailing data.
func decodeJSON(what string, data []byte) (node, error) {
	if err := checkJSONShape(what, data); err != nil {
		return node{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return node{}, fmt.Errorf("%w: %s is not JSON: %v", ErrInvalid, what, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return node{}, fmt.Errorf("%w: %s has data after its JSON object", ErrInvalid, what)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return node{}, fmt.Errorf("%w: %s is a JSON %s, want an object", ErrInvalid, what, jsonKind(v))
	}
	return node{m: m}, nil
}

func (n node) name(key string) string {
	if n.path == "" {
		return key
	}
	return n.path + "." + key
}

// field returns the value of key; null counts as absent.
func (n node) field(key string) (any, bool) {
	v, ok := n.m[key]
	return v, ok && v != nil
}

func (n node) object(key string) (node, bool, error) {
	v, ok := n.field(key)
	if !ok {
		return node{}, false, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return node{}, false, fmt.Errorf("%w: %s is a JSON %s, want an object", ErrInvalid, n.name(key), jsonKind(v))
	}
	return node{path: n.name(key), m: m}, true, nil
}

// needObject is object for a field that must be present.
func (n node) needObject(key string) (node, error) {
	o, ok, err := n.object(key)
	if err == nil && !ok {
		err = fmt.Errorf("%w: missing %s", ErrInvalid, n.name(key))
	}
	return o, err
}

func (n node) str(key string) (string, bool, error) {
	v, ok := n.field(key)
	if !ok {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, fmt.Errorf("%w: %s is a JSON %s, want a string", ErrInvalid, n.name(key), jsonKind(v))
	}
	return s, true, nil
}

// needStr is str for a field that must be a non-empty string.
func (n node) needStr(key string) (string, error) {
	s, _, err := n.str(key)
	if err == nil && s == "" {
		err = fmt.Errorf("%w: missing %s", ErrInvalid, n.name(key))
	}
	return s, err
}

// bytes decodes a base64 field (standard alphabet, padded, as Rekor's strfmt.Base64). An empty
// string is absent, as Rekor reads it.
func (n node) bytes(key string) ([]byte, error) {
	s, _, err := n.str(key)
	if err != nil || s == "" {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not standard base64: %v", ErrInvalid, n.name(key), err)
	}
	return b, nil
}

// needBytes is bytes for a field that must be present and non-empty.
func (n node) needBytes(key string) ([]byte, error) {
	b, err := n.bytes(key)
	if err == nil && len(b) == 0 {
		err = fmt.Errorf("%w: missing %s", ErrInvalid, n.name(key))
	}
	return b, err
}

func (n node) array(key string) ([]any, error) {
	v, ok := n.field(key)
	if !ok {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s is a JSON %s, want an array", ErrInvalid, n.name(key), jsonKind(v))
	}
	return a, nil
}

// element returns element i of the array named key as an object.
func (n node) element(key string, i int, v any) (node, error) {
	path := fmt.Sprintf("%s[%d]", n.name(key), i)
	m, ok := v.(map[string]any)
	if !ok {
		return node{}, fmt.Errorf("%w: %s is a JSON %s, want an object", ErrInvalid, path, jsonKind(v))
	}
	return node{path: path, m: m}, nil
}

// refuseURLs fails on any member named "url" at any depth: the log takes content inline only
// and never fetches what a client names. path is the members above v, joined only for the error.
func refuseURLs(path []string, v any) error {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if strings.EqualFold(k, "url") {
				return fmt.Errorf("%w: %s: this log takes content inline only and never fetches a URL", ErrInvalid, strings.Join(append(path, k), "."))
			}
			if err := refuseURLs(append(path, k), e); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range t {
			if err := refuseURLs(append(path, fmt.Sprintf("[%d]", i)), e); err != nil {
				return err
			}
		}
	}
	return nil
}
