package tsa

import (
	"crypto"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/digitorus/timestamp"
)

// JSONContentType is the media type of sigstore timestamp-authority's JSON request form.
const JSONContentType = "application/json"

// MaxJSONRequestSize bounds a JSON timestamp request, as timestamp-authority bounds it: the nonce
// is the only field that can grow, and decimal parsing is quadratic in its length.
const MaxJSONRequestSize = 1024

// maxPolicyOIDArcs bounds the components of a requested policy OID.
const maxPolicyOIDArcs = 129

// JSONRequest is the body of a JSON timestamp request, with timestamp-authority's field names
// and types: the nonce is a JSON number decoded without loss of precision, key names match
// case-insensitively, and fields it does not know are ignored.
type JSONRequest struct {
	ArtifactHash  string   `json:"artifactHash"`  // standard base64 of the digest
	Certificates  bool     `json:"certificates"`  // include the TSA certificate in the answer
	HashAlgorithm string   `json:"hashAlgorithm"` // sha256, sha384 or sha512, any case
	Nonce         *big.Int `json:"nonce"`         // optional
	TSAPolicyOID  string   `json:"tsaPolicyOID"`  // optional dotted OID
}

// ParseJSONRequest parses and checks a JSON timestamp request into the request the DER form
// would carry, with the same checks as ParseRequest. Errors wrap ErrBadRequest.
func ParseJSONRequest(body []byte) (*timestamp.Request, error) {
	if len(body) > MaxJSONRequestSize {
		return nil, fmt.Errorf("%w: JSON request of %d bytes exceeds %d", ErrBadRequest, len(body), MaxJSONRequestSize)
	}
	var jr JSONRequest
	if err := json.Unmarshal(body, &jr); err != nil {
		return nil, fmt.Errorf("%w: malformed JSON request: %v", ErrBadRequest, err)
	}
	hash, err := jsonHashAlgorithm(jr.HashAlgorithm)
	if err != nil {
		return nil, err
	}
	var policy asn1.ObjectIdentifier
	if jr.TSAPolicyOID != "" {
		if policy, err = parsePolicyOID(jr.TSAPolicyOID); err != nil {
			return nil, err
		}
	}
	digest, err := base64.StdEncoding.DecodeString(jr.ArtifactHash)
	if err != nil {
		return nil, fmt.Errorf("%w: artifactHash is not standard base64: %v", ErrBadRequest, err)
	}
	req := &timestamp.Request{
		HashAlgorithm: hash,
		HashedMessage: digest,
		Certificates:  jr.Certificates,
		Nonce:         jr.Nonce,
		TSAPolicyOID:  policy,
	}
	if err := checkRequest(req); err != nil {
		return nil, err
	}
	return req, nil
}

// jsonHashes are the hashAlgorithm names, lower-cased. SHA-1 is named so that it is refused with
// the same words as in the DER form.
var jsonHashes = map[string]crypto.Hash{"sha256": crypto.SHA256, "sha384": crypto.SHA384, "sha512": crypto.SHA512, "sha1": crypto.SHA1}

// jsonHashAlgorithm maps a hashAlgorithm name, in any case, to a hash this TSA accepts.
func jsonHashAlgorithm(name string) (crypto.Hash, error) {
	h, ok := jsonHashes[strings.ToLower(name)]
	if !ok {
		return 0, fmt.Errorf("%w: hashAlgorithm %q not accepted (sha256, sha384 or sha512)", ErrBadRequest, name)
	}
	return h, checkHashAlgorithm(h)
}

// parsePolicyOID reads a dotted OID the way timestamp-authority reads tsaPolicyOID: at most 129
// components, each a decimal integer as strconv.Atoi takes it.
func parsePolicyOID(s string) (asn1.ObjectIdentifier, error) {
	parts := strings.SplitN(s, ".", maxPolicyOIDArcs+1)
	if len(parts) > maxPolicyOIDArcs {
		return nil, fmt.Errorf("%w: tsaPolicyOID has more than %d components", ErrBadRequest, maxPolicyOIDArcs)
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("%w: tsaPolicyOID %q: component %q is not an integer", ErrBadRequest, s, p)
		}
		oid[i] = n
	}
	return oid, nil
}

// requestForm names how a timestamp request body is encoded.
type requestForm int

const (
	formDER requestForm = iota + 1
	formJSON
)

// formError is a refused Content-Type with the HTTP status that answers it.
type formError struct {
	status int
	msg    string
}

func (e *formError) Error() string { return e.msg }

// requestFormOf picks the request form from a Content-Type header, answering what
// timestamp-authority answers: the media type's parameters are ignored; a missing header or a
// type other than application/json and application/timestamp-query is 415, and a header that is
// not a media type (no subtype, a malformed parameter) is 400.
func requestFormOf(contentType string) (requestForm, error) {
	if contentType == "" {
		return 0, &formError{http.StatusUnsupportedMediaType,
			fmt.Sprintf("missing Content-Type: want %s or %s", QueryContentType, JSONContentType)}
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err == nil && !strings.Contains(mediaType, "/") {
		err = errors.New("no subtype")
	}
	if err != nil {
		return 0, &formError{http.StatusBadRequest, fmt.Sprintf("Content-Type %q is not a media type: %v", contentType, err)}
	}
	switch mediaType {
	case QueryContentType:
		return formDER, nil
	case JSONContentType:
		return formJSON, nil
	}
	return 0, &formError{http.StatusUnsupportedMediaType,
		fmt.Sprintf("unsupported media type %q: want %s or %s", mediaType, QueryContentType, JSONContentType)}
}
