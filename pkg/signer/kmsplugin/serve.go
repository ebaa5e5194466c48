package kmsplugin

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Handler implements the methods of a plugin for one key (InitOptions.KeyResourceID).
type Handler interface {
	DefaultAlgorithm() string
	SupportedAlgorithms() []string
	// CreateKey creates the key and returns its public key as PEM.
	CreateKey(ctx context.Context, algorithm string) ([]byte, error)
	// PublicKey returns the public key as PEM.
	PublicKey(ctx context.Context) ([]byte, error)
	// SignMessage signs digest (made with hash) when it is non-nil, else the message.
	SignMessage(ctx context.Context, message io.Reader, digest []byte, hash crypto.Hash) ([]byte, error)
	// VerifySignature verifies sig over digest (when non-nil) or message.
	VerifySignature(ctx context.Context, message io.Reader, digest []byte, hash crypto.Hash, sig []byte) error
}

// maxRequestSize bounds the JSON request a plugin accepts in argv[2].
const maxRequestSize = 1 << 20

// Serve runs one plugin call: it checks the protocol version in args[1], decodes the request
// in args[2], calls the Handler made by newHandler and writes the Response to stdout. Failures
// are written as Response.ErrorMessage too; the returned error says whether the call failed,
// so that main can choose its exit status.
func Serve(args []string, stdin io.Reader, stdout io.Writer, newHandler func(*InitOptions) (Handler, error)) error {
	resp, err := serve(args, stdin, newHandler)
	if err != nil {
		resp = &Response{ErrorMessage: err.Error()}
	}
	enc, merr := json.Marshal(resp)
	if merr != nil {
		return merr
	}
	if _, werr := stdout.Write(enc); werr != nil {
		return werr
	}
	return err
}

func serve(args []string, stdin io.Reader, newHandler func(*InitOptions) (Handler, error)) (*Response, error) {
	if len(args) < 3 {
		return nil, fmt.Errorf("expected 2 arguments (protocol version, JSON request), got %d", len(args)-1)
	}
	if args[1] != ProtocolVersion {
		return nil, fmt.Errorf("protocol version %q is not supported (want %q)", args[1], ProtocolVersion)
	}
	if len(args[2]) > maxRequestSize {
		return nil, errors.New("request too large")
	}
	var req Request
	if err := json.Unmarshal([]byte(args[2]), &req); err != nil {
		return nil, fmt.Errorf("parsing request: %w", err)
	}
	if req.InitOptions == nil {
		return nil, errors.New("request without initOptions")
	}
	ctx := context.Background()
	if d := req.InitOptions.CtxDeadline; d != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, *d)
		defer cancel()
	}
	h, err := newHandler(req.InitOptions)
	if err != nil {
		return nil, err
	}
	var resp Response
	switch req.MethodName {
	case MethodDefaultAlgorithm:
		resp.DefaultAlgorithm = &DefaultAlgorithmResp{DefaultAlgorithm: h.DefaultAlgorithm()}
	case MethodSupportedAlgorithms:
		resp.SupportedAlgorithms = &SupportedAlgorithmsResp{SupportedAlgorithms: h.SupportedAlgorithms()}
	case MethodCreateKey:
		if req.CreateKey == nil {
			return nil, errors.New("createKey without arguments")
		}
		if d := req.CreateKey.CtxDeadline; d != nil {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, *d)
			defer cancel()
		}
		pemBytes, err := h.CreateKey(ctx, req.CreateKey.Algorithm)
		if err != nil {
			return nil, err
		}
		resp.CreateKey = &CreateKeyResp{PublicKeyPEM: pemBytes}
	case MethodPublicKey:
		pemBytes, err := h.PublicKey(ctx)
		if err != nil {
			return nil, err
		}
		resp.PublicKey = &PublicKeyResp{PublicKeyPEM: pemBytes}
	case MethodSignMessage:
		digest, hash := messageOptions(req.SignMessage, req.InitOptions.HashFunc)
		sig, err := h.SignMessage(ctx, stdin, digest, hash)
		if err != nil {
			return nil, err
		}
		resp.SignMessage = &SignMessageResp{Signature: sig}
	case MethodVerifySignature:
		if req.VerifySignature == nil {
			return nil, errors.New("verifySignature without arguments")
		}
		var digest []byte
		hash := req.InitOptions.HashFunc
		if o := req.VerifySignature.VerifyOptions; o != nil {
			digest, hash = pickDigest(o.MessageOptions, hash)
		}
		if err := h.VerifySignature(ctx, stdin, digest, hash, req.VerifySignature.Signature); err != nil {
			return nil, err
		}
		resp.VerifySignature = &VerifySignatureResp{}
	default:
		return nil, fmt.Errorf("method %q is not supported", req.MethodName)
	}
	return &resp, nil
}

func messageOptions(args *SignMessageArgs, hash crypto.Hash) ([]byte, crypto.Hash) {
	if args == nil || args.SignOptions == nil {
		return nil, hash
	}
	return pickDigest(args.SignOptions.MessageOptions, hash)
}

func pickDigest(m MessageOptions, hash crypto.Hash) ([]byte, crypto.Hash) {
	var digest []byte
	if m.Digest != nil {
		digest = *m.Digest
	}
	if m.HashFunc != nil {
		hash = *m.HashFunc
	}
	return digest, hash
}

// Deadline returns the caller's deadline carried by a request, if any.
func (o *InitOptions) Deadline() (time.Time, bool) {
	if o == nil || o.CtxDeadline == nil {
		return time.Time{}, false
	}
	return *o.CtxDeadline, true
}
