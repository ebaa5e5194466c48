package ca

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Paths of Fulcio's legacy v1 API, which containers/image (skopeo, podman, buildah) calls.
const (
	LegacySigningCertPath = "/api/v1/signingCert"
	RootCertPath          = "/api/v1/rootCert"
	// PEMCertificateChainType is the media type of both v1 answers: PEM certificates, leaf first.
	PEMCertificateChainType = "application/pem-certificate-chain"
)

// The messages Fulcio's v1 endpoint refuses a request with. They name the part of the request
// at fault; the reason in detail goes to the CA's log, as Fulcio's does.
const (
	legacyMsgToken     = "There was an error processing the identity token"
	legacyMsgPublicKey = "The public key supplied in the request could not be parsed"
	legacyMsgWeakKey   = "The public key supplied in the request is insecure"
	legacyMsgCSR       = "The certificate signing request could not be parsed"
	legacyMsgSignature = "The signature supplied in the request could not be verified"
	legacyMsgCTLog     = "Error entering certificate in CTL"
	legacyMsgCA        = "error communicating with CA backend"
)

// gRPC status codes of the v1 error bodies.
const (
	grpcInvalidArgument = 3
	grpcInternal        = 13
)

// legacyRequestType is Fulcio's dev.sigstore.fulcio.v1beta.CreateSigningCertificateRequest
// (fulcio_legacy.proto), so that protojson reads a v1 body exactly as Fulcio's gateway does.
var legacyRequestType = sync.OnceValue(func() protoreflect.MessageType {
	field := func(name string, number int32, typ descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), JsonName: proto.String(name), Number: proto.Int32(number),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: typ.Enum()}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	const (
		bytesType   = descriptorpb.FieldDescriptorProto_TYPE_BYTES
		stringType  = descriptorpb.FieldDescriptorProto_TYPE_STRING
		messageType = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	)
	file := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("fulcio_legacy.proto"),
		Package: proto.String("dev.sigstore.fulcio.v1beta"),
		Syntax:  proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("CreateSigningCertificateRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				field("publicKey", 1, messageType, ".dev.sigstore.fulcio.v1beta.PublicKey"),
				field("signedEmailAddress", 2, bytesType, ""),
				field("certificateSigningRequest", 3, bytesType, ""),
			}},
			{Name: proto.String("PublicKey"), Field: []*descriptorpb.FieldDescriptorProto{
				field("algorithm", 1, stringType, ""),
				field("content", 2, bytesType, ""),
			}},
		},
	}
	fd, err := protodesc.NewFile(file, nil)
	if err != nil {
		panic(fmt.Sprintf("legacy request descriptor: %v", err))
	}
	return dynamicpb.NewMessageType(fd.Messages().ByName("CreateSigningCertificateRequest"))
})

// decodeError is a v1 body the decoder refuses. It reads as the decoder's own message, which
// is what Fulcio answers, and wraps ErrBadRequest.
type decodeError struct{ err error }

func (e decodeError) Error() string   { return e.err.Error() }
func (e decodeError) Unwrap() []error { return []error{ErrBadRequest, e.err} }

// ParseLegacySigningCertRequest reads a POST /api/v1/signingCert body as Fulcio's gateway does:
// the first JSON value of body, decoded by protojson (bytes in standard or URL-safe base64,
// padded or not; null as absent; unknown fields ignored; duplicate fields refused); an empty
// body is an empty request. A CSR, when present, is used and any public key ignored, as Fulcio
// does; otherwise the key content (PEM or DER) is left for Issue to parse once the token has
// verified. Errors of the body wrap ErrBadRequest; a request with neither key nor CSR gives
// an error wrapping ErrUnsupportedKey.
func ParseLegacySigningCertRequest(body io.Reader) (KeyProof, error) {
	var raw json.RawMessage
	if err := json.NewDecoder(body).Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return KeyProof{}, decodeError{err}
	}
	msg := legacyRequestType().New()
	if len(raw) > 0 {
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, msg.Interface()); err != nil {
			return KeyProof{}, decodeError{err}
		}
	}
	fields := msg.Descriptor().Fields()
	if csr := msg.Get(fields.ByName("certificateSigningRequest")).Bytes(); len(csr) > 0 {
		return KeyProof{CSR: csr}, nil
	}
	keyField := fields.ByName("publicKey")
	if !msg.Has(keyField) {
		return KeyProof{}, fmt.Errorf("%w: publicKey or certificateSigningRequest is required", ErrUnsupportedKey)
	}
	key := msg.Get(keyField).Message()
	return KeyProof{
		PublicKeyContent: key.Get(key.Descriptor().Fields().ByName("content")).Bytes(),
		Signature:        msg.Get(fields.ByName("signedEmailAddress")).Bytes(),
	}, nil
}

// legacyStatus is Fulcio's v1 answer to err: HTTP status, gRPC code and message. csr tells
// whether the request carried a CSR, whose parse failures Fulcio names apart from a key's.
func legacyStatus(err error, csr bool) (httpCode, grpcCode int, message string) {
	switch {
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest, grpcInvalidArgument, err.Error()
	case errors.Is(err, ErrInvalidToken), errors.Is(err, ErrIdentity):
		return http.StatusBadRequest, grpcInvalidArgument, legacyMsgToken
	case errors.Is(err, ErrWeakKey):
		return http.StatusBadRequest, grpcInvalidArgument, legacyMsgWeakKey
	case errors.Is(err, ErrUnsupportedKey) && csr:
		return http.StatusBadRequest, grpcInvalidArgument, legacyMsgCSR
	case errors.Is(err, ErrUnsupportedKey):
		return http.StatusBadRequest, grpcInvalidArgument, legacyMsgPublicKey
	case errors.Is(err, ErrProof):
		return http.StatusBadRequest, grpcInvalidArgument, legacyMsgSignature
	case errors.Is(err, ErrCTLog):
		return http.StatusInternalServerError, grpcInternal, legacyMsgCTLog
	default:
		return http.StatusInternalServerError, grpcInternal, legacyMsgCA
	}
}

// handleLegacySigningCert serves POST /api/v1/signingCert: the v2 issuance, answered 201 with
// the PEM chain (leaf, intermediate, root; SCT embedded), as Fulcio's legacy endpoint answers.
func (a *Server) handleLegacySigningCert(w http.ResponseWriter, r *http.Request) {
	proof, err := ParseLegacySigningCertRequest(http.MaxBytesReader(w, r.Body, MaxRequestSize))
	var chain []*x509.Certificate
	if err == nil {
		chain, err = a.Issue(r.Context(), bearerToken(r), proof)
	}
	if err != nil {
		code, grpcCode, message := legacyStatus(err, len(proof.CSR) > 0)
		if code >= 500 {
			a.logger.Error("issuing certificate", "api", "v1", "error", err)
		} else {
			a.logger.Info("refused signingCert request", "api", "v1", "error", err)
		}
		writeStatus(w, code, grpcCode, message)
		return
	}
	w.Header().Set("Content-Type", PEMCertificateChainType)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, joinPEM(chain, "\n"))
}

// handleRootCert serves GET /api/v1/rootCert: the CA chain, intermediate first, as Fulcio
// renders its trust bundle there (PEM blocks apart by an empty line).
func (a *Server) handleRootCert(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", PEMCertificateChainType)
	_, _ = io.WriteString(w, joinPEM(a.chain, "\n\n"))
}

// joinPEM renders certificates as Fulcio's v1 answers do: PEM blocks joined by sep, with no
// newline after the last.
func joinPEM(certs []*x509.Certificate, sep string) string {
	blocks := pemChain(certs).Certificates
	for i := range blocks {
		blocks[i] = strings.TrimSuffix(blocks[i], "\n")
	}
	return strings.Join(blocks, sep)
}

// writeStatus writes an error as Fulcio's gateway renders a gRPC status: google.rpc.Status in
// protojson, with its empty details, and no newline after it.
func writeStatus(w http.ResponseWriter, httpCode, grpcCode int, message string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		apiError
		Details []any `json:"details"`
	}{apiError{Code: grpcCode, Message: message}, []any{}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpCode)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
