package kmsplugin

import (
	"crypto"
	"time"
)

// ProtocolVersion is the protocol version this package speaks, passed as argv[1].
const ProtocolVersion = "v1"

// ExecutablePrefix prefixes the provider name to form the plugin's executable name.
const ExecutablePrefix = "sigstore-kms-"

// Method names, the Request's MethodName.
const (
	MethodDefaultAlgorithm    = "defaultAlgorithm"
	MethodSupportedAlgorithms = "supportedAlgorithms"
	MethodCreateKey           = "createKey"
	MethodPublicKey           = "publicKey"
	MethodSignMessage         = "signMessage"
	MethodVerifySignature     = "verifySignature"
)

// Request is the JSON document passed as argv[2]: the initialisation options and the arguments
// of one method (the field named after the method is set).
type Request struct {
	InitOptions *InitOptions `json:"initOptions"`
	MethodArgs
}

// InitOptions identify the key and the hash the caller signs with.
type InitOptions struct {
	// CtxDeadline is the caller's deadline (RFC 3339), when it has one.
	CtxDeadline     *time.Time `json:"ctxDeadline,omitempty"`
	ProtocolVersion string     `json:"protocolVersion"`
	// KeyResourceID is the key reference without "<name>://".
	KeyResourceID string `json:"keyResourceID"`
	// HashFunc is a crypto.Hash number (SHA-256 is 5).
	HashFunc   crypto.Hash `json:"hashFunc"`
	RPCOptions *RPCOptions `json:"rpcOptions"`
}

// MethodArgs names the method and carries its arguments.
type MethodArgs struct {
	MethodName          string                   `json:"methodName"`
	DefaultAlgorithm    *DefaultAlgorithmArgs    `json:"defaultAlgorithm,omitempty"`
	SupportedAlgorithms *SupportedAlgorithmsArgs `json:"supportedAlgorithms,omitempty"`
	CreateKey           *CreateKeyArgs           `json:"createKey,omitempty"`
	PublicKey           *PublicKeyArgs           `json:"publicKey,omitempty"`
	SignMessage         *SignMessageArgs         `json:"signMessage,omitempty"`
	VerifySignature     *VerifySignatureArgs     `json:"verifySignature,omitempty"`
}

// Response is the JSON document a plugin prints on stdout.
type Response struct {
	ErrorMessage        string                   `json:"errorMessage,omitempty"`
	DefaultAlgorithm    *DefaultAlgorithmResp    `json:"defaultAlgorithm,omitempty"`
	SupportedAlgorithms *SupportedAlgorithmsResp `json:"supportedAlgorithms,omitempty"`
	CreateKey           *CreateKeyResp           `json:"createKey,omitempty"`
	PublicKey           *PublicKeyResp           `json:"publicKey,omitempty"`
	SignMessage         *SignMessageResp         `json:"signMessage,omitempty"`
	VerifySignature     *VerifySignatureResp     `json:"verifySignature,omitempty"`
}

// DefaultAlgorithmArgs has no fields.
type DefaultAlgorithmArgs struct{}

// DefaultAlgorithmResp names the algorithm CreateKey uses by default.
type DefaultAlgorithmResp struct {
	DefaultAlgorithm string `json:"defaultAlgorithm"`
}

// SupportedAlgorithmsArgs has no fields.
type SupportedAlgorithmsArgs struct{}

// SupportedAlgorithmsResp lists the algorithms CreateKey accepts.
type SupportedAlgorithmsResp struct {
	SupportedAlgorithms []string `json:"supportedAlgorithms"`
}

// CreateKeyArgs asks for a new key of an algorithm.
type CreateKeyArgs struct {
	CtxDeadline *time.Time `json:"ctxDeadline,omitempty"`
	Algorithm   string     `json:"algorithm"`
}

// CreateKeyResp returns the new key's public key, PEM (base64 in JSON).
type CreateKeyResp struct {
	PublicKeyPEM []byte `json:"publicKeyPEM"`
}

// PublicKeyArgs asks for the key's public key.
type PublicKeyArgs struct {
	PublicKeyOptions *PublicKeyOptions `json:"publicKeyOptions"`
}

// PublicKeyResp returns the public key, PEM (base64 in JSON).
type PublicKeyResp struct {
	PublicKeyPEM []byte `json:"publicKeyPEM"`
}

// SignMessageArgs asks for a signature over stdin, or over SignOptions.MessageOptions.Digest
// when it is set.
type SignMessageArgs struct {
	SignOptions *SignOptions `json:"signOptions"`
}

// SignMessageResp returns the signature (base64 in JSON).
type SignMessageResp struct {
	Signature []byte `json:"signature"`
}

// VerifySignatureArgs asks to verify Signature over stdin or over the given digest.
type VerifySignatureArgs struct {
	Signature     []byte         `json:"signature"`
	VerifyOptions *VerifyOptions `json:"verifyOptions"`
}

// VerifySignatureResp is empty: success is the absence of ErrorMessage.
type VerifySignatureResp struct{}

// PublicKeyOptions carries RPC options for PublicKey.
type PublicKeyOptions struct {
	RPCOptions RPCOptions `json:"rpcOptions"`
}

// SignOptions carries RPC and message options for SignMessage.
type SignOptions struct {
	RPCOptions     RPCOptions     `json:"rpcOptions"`
	MessageOptions MessageOptions `json:"messageOptions"`
}

// VerifyOptions carries RPC and message options for VerifySignature.
type VerifyOptions struct {
	RPCOptions     RPCOptions     `json:"rpcOptions"`
	MessageOptions MessageOptions `json:"messageOptions"`
}

// RPCOptions are per-call options; credentials never travel here (plugins read their own
// environment).
type RPCOptions struct {
	CtxDeadline        *time.Time `json:"ctxDeadline,omitempty"`
	KeyVersion         *string    `json:"keyVersion,omitempty"`
	RemoteVerification *bool      `json:"remoteVerification,omitempty"`
}

// MessageOptions carry a precomputed digest and its hash.
type MessageOptions struct {
	Digest   *[]byte      `json:"digest,omitempty"`
	HashFunc *crypto.Hash `json:"hashFunc,omitempty"`
}
