package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cosign-like/cosign-like/internal/limitio"
)

// DefaultMaxAttestationSize is the largest predicate or attestation payload read unless the
// caller raises it: 128 MiB.
const DefaultMaxAttestationSize = 128 << 20

// ErrTooLarge is returned when a predicate, statement or envelope exceeds the size limit.
var ErrTooLarge = errors.New("attestation too large")

// SizeError is a predicate, statement or attestation over the size limit. It matches
// ErrTooLarge.
type SizeError struct {
	// What names the input ("predicate sbom.json"); empty when the wrapping error names it.
	What string
	// Size is the input's size when known, else 0.
	Size int64
	// Limit is the limit in bytes.
	Limit int64
}

// Error names the input, its size when known, and the limit.
func (e *SizeError) Error() string {
	switch {
	case e.What == "":
		return fmt.Sprintf("%v: %d bytes, the limit is %d", ErrTooLarge, e.Size, e.Limit)
	case e.Size > 0:
		return fmt.Sprintf("%v: %s is %d bytes, larger than the limit of %d bytes", ErrTooLarge, e.What, e.Size, e.Limit)
	default:
		return fmt.Sprintf("%v: %s is larger than the limit of %d bytes", ErrTooLarge, e.What, e.Limit)
	}
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *SizeError) Is(target error) bool { return target == ErrTooLarge }

// ErrInvalidPredicate is returned when a predicate does not parse as its type says.
var ErrInvalidPredicate = errors.New("invalid predicate")

// ErrSPDXTagValue is returned, with ErrInvalidPredicate, for an SPDX predicate in the tag-value
// form.
var ErrSPDXTagValue = errors.New("an SPDX tag-value document cannot be the predicate of an in-toto v1 statement, which must be a JSON object: give the SPDX JSON form")

// ReadBounded reads all of r, failing with a SizeError when it holds more than max bytes (DefaultMaxAttestationSize when max <= 0). what names the input in errors.
func ReadBounded(r io.Reader, max int64, what string) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxAttestationSize
	}
	// A file says how large it is: limitio refuses it before reading, or reads it into one
	// buffer of its size.
	data, err := limitio.ReadAll(r, max)
	var tooLarge *limitio.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, &SizeError{What: what, Size: tooLarge.Size, Limit: max}
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	return data, nil
}

// BuildPredicate turns the content of a predicate file into the predicate JSON object a
// statement of type predicateType carries, as cosign does: the custom type wraps the content
// as {"Data": <content>, "Timestamp": <now, RFC 3339>}; every other type must be a JSON object
// that parses as CheckPredicate requires for its type, returned as it is (surrounding
// whitespace trimmed, no copy). SPDX tag-value documents are refused:
// an in-toto v1 statement needs a JSON object predicate (use SPDX JSON).
func BuildPredicate(predicateType string, content []byte, now time.Time) ([]byte, error) {
	if predicateType == PredicateCustom {
		if !utf8.Valid(content) {
			return nil, fmt.Errorf("%w: the custom predicate's content is not UTF-8 text", ErrInvalidPredicate)
		}
		out, err := json.Marshal(struct {
			Data      string `json:"Data"`
			Timestamp string `json:"Timestamp"`
		}{string(content), now.UTC().Format(time.RFC3339)})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidPredicate, err)
		}
		return out, nil
	}
	trimmed := bytes.TrimSpace(content)
	if predicateType == PredicateSPDX && bytes.HasPrefix(trimmed, []byte("SPDXVersion:")) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPredicate, ErrSPDXTagValue)
	}
	if err := CheckPredicate(predicateType, trimmed); err != nil {
		return nil, err
	}
	return trimmed, nil
}

// CheckPredicate checks that predicate (JSON) is an object that parses as predicateType says:
//   - SPDX: spdxVersion "SPDX-<version>", SPDXID, name, creationInfo;
//   - CycloneDX: bomFormat "CycloneDX" and a specVersion;
//   - SLSA provenance v1: buildDefinition with buildType and externalParameters, runDetails
//     with builder.id;
//   - SLSA provenance v0.2: builder.id and buildType;
//   - in-toto link: _type "link" and a name;
//   - cosign vuln: scanner.uri, and RFC 3339 metadata times when present;
//   - OpenVEX: an @context in the https://openvex.dev/ns namespace and a statements array;
//   - cosign custom: Data and Timestamp strings;
//   - any other type: a JSON object.
//
// Errors wrap ErrInvalidPredicate and name the field that is wrong.
func CheckPredicate(predicateType string, predicate []byte) error {
	predicate = bytes.TrimSpace(predicate)
	if len(predicate) == 0 || predicate[0] != '{' {
		return fmt.Errorf("%w: the %s predicate is not a JSON object", ErrInvalidPredicate, predicateType)
	}
	if !json.Valid(predicate) {
		return fmt.Errorf("%w: the %s predicate is not valid JSON", ErrInvalidPredicate, predicateType)
	}
	var err error
	switch predicateType {
	case PredicateSPDX:
		err = checkSPDX(predicate)
	case PredicateCycloneDX:
		err = checkCycloneDX(predicate)
	case PredicateSLSAProvenance1:
		err = checkSLSA1(predicate)
	case PredicateSLSAProvenance02:
		err = checkSLSA02(predicate)
	case PredicateLink:
		err = checkLink(predicate)
	case PredicateVuln:
		err = checkVuln(predicate)
	case PredicateOpenVEX:
		err = checkOpenVEX(predicate)
	case PredicateCustom:
		err = checkCustom(predicate)
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidPredicate, predicateType, err)
	}
	return nil
}

// decodeInto unmarshals data into v, reporting a type error by field.
func decodeInto(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("field %s: %s, want %s", te.Field, te.Value, te.Type)
		}
		return err
	}
	return nil
}

func required(field, value string) error {
	if strings.TrimSpace(value) == "" {
		return fmt.Errorf("required field %s is missing or empty", field)
	}
	return nil
}

func checkSPDX(data []byte) error {
	var d struct {
		SPDXVersion  string           `json:"spdxVersion"`
		SPDXID       string           `json:"SPDXID"`
		Name         string           `json:"name"`
		CreationInfo *json.RawMessage `json:"creationInfo"`
	}
	if err := decodeInto(data, &d); err != nil {
		return err
	}
	if !strings.HasPrefix(d.SPDXVersion, "SPDX-") {
		return fmt.Errorf("spdxVersion %q: want SPDX-<version> (is this an SPDX JSON document?)", d.SPDXVersion)
	}
	if err := required("SPDXID", d.SPDXID); err != nil {
		return err
	}
	if err := required("name", d.Name); err != nil {
		return err
	}
	if d.CreationInfo == nil || !bytes.HasPrefix(bytes.TrimSpace(*d.CreationInfo), []byte("{")) {
		return errors.New("required object creationInfo is missing")
	}
	return nil
}

func checkCycloneDX(data []byte) error {
	var d struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
	}
	if err := decodeInto(data, &d); err != nil {
		return err
	}
	if d.BOMFormat != "CycloneDX" {
		return fmt.Errorf("bomFormat %q: want CycloneDX (is this a CycloneDX JSON BOM?)", d.BOMFormat)
	}
	return required("specVersion", d.SpecVersion)
}

func checkSLSA1(data []byte) error {
	var d struct {
		BuildDefinition *struct {
			BuildType          string          `json:"buildType"`
			ExternalParameters json.RawMessage `json:"externalParameters"`
		} `json:"buildDefinition"`
		RunDetails *struct {
			Builder *struct {
				ID string `json:"id"`
			} `json:"builder"`
		} `json:"runDetails"`
	}
	if err := decodeInto(data, &d); err != nil {
		return err
	}
	if d.BuildDefinition == nil {
		return errors.New("required object buildDefinition is missing")
	}
	if err := required("buildDefinition.buildType", d.BuildDefinition.BuildType); err != nil {
		return err
	}
	if !bytes.HasPrefix(bytes.TrimSpace(d.BuildDefinition.ExternalParameters), []byte("{")) {
		return errors.New("required object buildDefinition.externalParameters is missing")
	}
	if d.RunDetails == nil || d.RunDetails.Builder == nil {
		return errors.New("required object runDetails.builder is missing")
	}
	return required("runDetails.builder.id", d.RunDetails.Builder.ID)
}

func checkSLSA02(data []byte) error {
	var d struct {
		Builder *struct {
			ID string `json:"id"`
		} `json:"builder"`
		BuildType string `json:"buildType"`
	}
	if err := decodeInto(data, &d); err != nil {
		return err
	}
	if d.Builder == nil {
		return errors.New("required object builder is missing")
	}
	if err := required("builder.id", d.Builder.ID); err != nil {
		return err
	}
	return required("buildType", d.BuildType)
}

func checkLink(data []byte) error {
	var d struct {
		Type string `json:"_type"`
		Name string `json:"name"`
	}
	if err := decodeInto(data, &d); err != nil {
		return err
	}
	if d.Type != "link" {
		return fmt.Errorf("_type %q: want link", d.Type)
	}
	return required("name", d.Name)
}

func checkVuln(data []byte) error {
	var d struct {
		Scanner *struct {
			URI string `json:"uri"`
		} `json:"scanner"`
		Metadata *struct {
			ScanStartedOn  *time.Time `json:"scanStartedOn"`
			ScanFinishedOn *time.Time `json:"scanFinishedOn"`
		} `json:"metadata"`
	}
	if err := decodeInto(data, &d); err != nil {
		return err
	}
	if d.Scanner == nil {
		return errors.New("required object scanner is missing")
	}
	return required("scanner.uri", d.Scanner.URI)
}

func checkOpenVEX(data []byte) error {
	var d struct {
		Context    string            `json:"@context"`
		Statements []json.RawMessage `json:"statements"`
	}
	if err := decodeInto(data, &d); err != nil {
		return err
	}
	if !strings.HasPrefix(d.Context, PredicateOpenVEX) {
		return fmt.Errorf("@context %q: want the OpenVEX namespace %s/...", d.Context, PredicateOpenVEX)
	}
	if d.Statements == nil {
		return errors.New("required array statements is missing")
	}
	return nil
}

func checkCustom(data []byte) error {
	var d struct {
		Data      *string `json:"Data"`
		Timestamp string  `json:"Timestamp"`
	}
	if err := decodeInto(data, &d); err != nil {
		return err
	}
	if d.Data == nil {
		return errors.New("required string Data is missing")
	}
	if _, err := time.Parse(time.RFC3339, d.Timestamp); err != nil {
		return fmt.Errorf("Timestamp %q is not an RFC 3339 time", d.Timestamp)
	}
	return nil
}
