package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cosign-like/cosign-like/internal/limitio"
)

// MaxFileSize is the largest policy file read, in bytes.
const MaxFileSize = 4 << 20

// ErrInvalid is wrapped by every error about a policy document.
var ErrInvalid = errors.New("invalid ClusterImagePolicy")

// FieldError is one problem with one field of a document.
type FieldError struct {
	// Source is the file and document ("policies/a.yaml", "policies/a.yaml#2").
	Source string
	// Line is the line of the field in the file (0 when not known).
	Line int
	// Path is the field, as policy-controller names it ("spec.authorities[0].key.secretRef").
	Path string
	// Message says what is wrong.
	Message string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Parse reads the ClusterImagePolicy and TrustRoot documents of one YAML file (several
// documents may be separated by ---; empty ones are skipped). Every document is decoded
// strictly: a field the type does not have is refused with its path and line; then each is
// checked (Validate). source names the file in messages.
func Parse(source string, data []byte) (*Documents, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	out := &Documents{}
	var errs []error
	for n := 1; ; n++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		where := source
		if n > 1 {
			where = fmt.Sprintf("%s#%d", source, n)
		}
		if err != nil {
			errs = append(errs, &FieldError{Source: where, Message: fmt.Sprintf("not YAML: %v", err)})
			break
		}
		if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null") {
			continue
		}
		if err := decodeDocument(where, doc.Content[0], out); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// decodeDocument decodes and checks one document and adds it to out.
func decodeDocument(where string, node *yaml.Node, out *Documents) error {
	if node.Kind != yaml.MappingNode {
		return &FieldError{Source: where, Line: node.Line, Message: "a document must be a mapping (apiVersion, kind, metadata, spec)"}
	}
	kind, err := checkKind(where, node)
	if err != nil {
		return err
	}
	if kind == TrustRootKind {
		tr := &TrustRoot{}
		if err := decodeStrict(where, node, tr); err != nil {
			return err
		}
		tr.Source = where
		if err := tr.Validate(); err != nil {
			return err
		}
		out.TrustRoots = append(out.TrustRoots, tr)
		return nil
	}
	p := &ClusterImagePolicy{}
	if err := decodeStrict(where, node, p); err != nil {
		return err
	}
	p.Source = where
	if err := p.Validate(); err != nil {
		return err
	}
	out.Policies = append(out.Policies, p)
	return nil
}

// decodeStrict refuses the fields v's type does not have, then decodes node into v.
func decodeStrict(where string, node *yaml.Node, v any) error {
	var errs []error
	walk(node, reflect.TypeOf(v), "", func(line int, path, msg string) {
		errs = append(errs, &FieldError{Source: where, Line: line, Path: path, Message: msg})
	})
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	var generic any
	if err := node.Decode(&generic); err != nil {
		return &FieldError{Source: where, Line: node.Line, Message: err.Error()}
	}
	raw, err := json.Marshal(generic)
	if err != nil {
		return &FieldError{Source: where, Line: node.Line, Message: err.Error()}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &FieldError{Source: where, Line: node.Line, Message: typeMessage(err)}
	}
	return nil
}

// checkKind returns the kind of a document, refusing another kind or API version before its
// fields are read, so that a Deployment is named for what it is.
func checkKind(where string, node *yaml.Node) (string, error) {
	var apiVersion, kind string
	var line int
	for i := 0; i+1 < len(node.Content); i += 2 {
		switch node.Content[i].Value {
		case "apiVersion":
			apiVersion, line = node.Content[i+1].Value, node.Content[i].Line
		case "kind":
			kind = node.Content[i+1].Value
		}
	}
	switch {
	case kind == TrustRootKind && apiVersion == V1alpha1:
	case kind == TrustRootKind:
		return "", &FieldError{Source: where, Line: line, Path: "apiVersion", Message: fmt.Sprintf("%q is not supported for a TrustRoot: want %s", apiVersion, V1alpha1)}
	case kind != Kind:
		return "", &FieldError{Source: where, Line: line, Path: "kind", Message: fmt.Sprintf("%q is neither a %s nor a %s", kind, Kind, TrustRootKind)}
	case apiVersion != V1beta1 && apiVersion != V1alpha1:
		return "", &FieldError{Source: where, Line: line, Path: "apiVersion", Message: fmt.Sprintf("%q is not supported: want %s (or %s)", apiVersion, V1beta1, V1alpha1)}
	}
	return kind, nil
}

// walk checks that every key of node names a field of t (by its JSON name), recursively, and
// reports each unknown field. Fields tagged strict:"open" are not looked into.
func walk(node *yaml.Node, t reflect.Type, path string, report func(line int, path, msg string)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if node.Kind == yaml.AliasNode && node.Alias != nil {
		node = node.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			if node.Tag != "!!null" {
				report(node.Line, path, "want a mapping")
			}
			return
		}
		fields := jsonFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, value := node.Content[i], node.Content[i+1]
			sub := joinPath(path, key.Value)
			f, ok := fields[key.Value]
			if !ok {
				report(key.Line, sub, "unknown field (not in "+describe(t)+")")
				continue
			}
			if f.Tag.Get("strict") == "open" {
				continue
			}
			walk(value, f.Type, sub, report)
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			if node.Kind != yaml.ScalarNode {
				report(node.Line, path, "want base64 bytes")
			}
			return
		}
		if node.Kind != yaml.SequenceNode {
			if node.Tag != "!!null" {
				report(node.Line, path, "want a list")
			}
			return
		}
		for i, item := range node.Content {
			walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), report)
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			if node.Tag != "!!null" {
				report(node.Line, path, "want a mapping")
			}
			return
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			walk(node.Content[i+1], t.Elem(), joinPath(path, node.Content[i].Value), report)
		}
	case reflect.Interface:
	default:
		if node.Kind != yaml.ScalarNode {
			report(node.Line, path, "want a single value")
		}
	}
}

// jsonFields maps the JSON names of t's fields (inline embedded structs included) to them.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

// describe lists the fields a type accepts, for the unknown-field message.
func describe(t reflect.Type) string {
	names := make([]string, 0, t.NumField())
	for k := range jsonFields(t) {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// typeMessage turns encoding/json's type errors into the field and what it wanted.
func typeMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s: want %s, have %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

// LoadDir reads every *.yaml and *.yml file of dir (not its subdirectories), in name order,
// and returns all their documents; it fails on the first file that does not parse, naming it,
// and when two documents of a kind share a name.
func LoadDir(dir string) (*Documents, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading policies: %w", err)
	}
	all := &Documents{}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := limitio.ReadFile(path, MaxFileSize)
		if err != nil {
			return nil, fmt.Errorf("reading policy file %s: %w", path, err)
		}
		docs, err := Parse(path, data)
		if err != nil {
			return nil, err
		}
		all.add(docs)
	}
	if err := all.checkNames(); err != nil {
		return nil, err
	}
	return all, nil
}
