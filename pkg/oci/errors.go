package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors callers can act on with errors.Is.
var (
	// ErrNotFound: the manifest, tag or blob does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDigestMismatch: the registry returned content whose digest is not the one asked for.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrLimitExceeded: a count or size exceeds a configured limit. The wrapping error names
	// the limit.
	ErrLimitExceeded = errors.New("limit exceeded")
	// ErrInvalidManifest: a manifest or index could not be parsed or is not what was expected.
	ErrInvalidManifest = errors.New("invalid manifest")
	// ErrReferrersUnsupported: the OCI 1.1 referrers API was required but the registry lacks it.
	ErrReferrersUnsupported = errors.New("registry does not support the OCI 1.1 referrers API")
	// ErrInvalidInput: an argument is malformed.
	ErrInvalidInput = errors.New("invalid input")
	// ErrNoCredentials: the registry asks for credentials and none are configured.
	ErrNoCredentials = errors.New("no registry credentials")
)

// NoCredentialsError names the registry that asked for credentials when none are configured
// (no WithBasicAuth, nothing in the Docker config). It matches ErrNoCredentials.
type NoCredentialsError struct {
	Registry string
}

// Error names the registry.
func (e *NoCredentialsError) Error() string {
	return fmt.Sprintf("registry %s requires credentials and none are configured", e.Registry)
}

// Is makes errors.Is(err, ErrNoCredentials) true.
func (e *NoCredentialsError) Is(target error) bool { return target == ErrNoCredentials }

// InvalidInputError describes a malformed argument. It matches ErrInvalidInput.
type InvalidInputError struct {
	What, Value, Reason string
}

// Error describes the argument and what is wrong with it.
func (e *InvalidInputError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.What, e.Value, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InvalidInputError) Is(target error) bool { return target == ErrInvalidInput }

// LimitError says which limit was exceeded. It matches ErrLimitExceeded.
type LimitError struct {
	// What was counted or measured, e.g. "attached artifacts", "layers", "blob size".
	What string
	// Limit is the configured limit; Got what was seen (at least Limit+1 for counts).
	Limit, Got int64
	// Where names the object, e.g. the manifest reference.
	Where string
}

// Error names the object, the limit and, when known, the value seen.
func (e *LimitError) Error() string {
	if e.Got > 0 {
		return fmt.Sprintf("%s: %s %d exceeds the limit of %d", e.Where, e.What, e.Got, e.Limit)
	}
	return fmt.Sprintf("%s: more than %d %s, the limit", e.Where, e.Limit, e.What)
}

// Is makes errors.Is(err, ErrLimitExceeded) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimitExceeded }

// RegistryError is an unexpected HTTP answer from a registry.
type RegistryError struct {
	Method, URL string
	StatusCode  int
	// Codes are the distribution error codes of the body (e.g. MANIFEST_UNKNOWN).
	Codes   []string
	Message string
}

// Error names the request, the status and the registry's error codes and messages.
func (e *RegistryError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Codes) > 0 {
		s += ": " + strings.Join(e.Codes, ", ")
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is makes errors.Is(err, ErrNotFound) true for 404 answers.
func (e *RegistryError) Is(target error) bool {
	return target == ErrNotFound && e.StatusCode == http.StatusNotFound
}

// newRegistryError builds a RegistryError from an answer body (at most the first 4 KiB).
func newRegistryError(method, url string, status int, body []byte) *RegistryError {
	e := &RegistryError{Method: method, URL: url, StatusCode: status}
	var parsed struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &parsed) == nil && len(parsed.Errors) > 0 {
		var msgs []string
		for _, pe := range parsed.Errors {
			e.Codes = append(e.Codes, pe.Code)
			if pe.Message != "" {
				msgs = append(msgs, pe.Message)
			}
		}
		e.Message = strings.Join(msgs, "; ")
	}
	return e
}
