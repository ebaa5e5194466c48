package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin/handler"
)

type pemKey struct {
	path string
	hash crypto.Hash
}

func (k pemKey) load() (*signature.ECDSASignerVerifier, error) {
	data, err := os.ReadFile(k.path)
	if err != nil {
		return nil, err
	}
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(data, cryptoutils.SkipPassword)
	if err != nil {
		return nil, err
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%T is not an ECDSA key", priv)
	}
	return signature.LoadECDSASignerVerifier(ec, k.hash)
}

func (k pemKey) DefaultAlgorithm() string      { return "ecdsa-p256" }
func (k pemKey) SupportedAlgorithms() []string { return []string{"ecdsa-p256"} }

func (k pemKey) CreateKey(_ context.Context, algorithm string) (crypto.PublicKey, error) {
	if algorithm != "ecdsa-p256" {
		return nil, fmt.Errorf("algorithm %q not supported", algorithm)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pemBytes, err := cryptoutils.MarshalPrivateKeyToPEM(priv)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(k.path, pemBytes, 0o600); err != nil {
		return nil, err
	}
	return priv.Public(), nil
}

func (k pemKey) PublicKey(opts ...signature.PublicKeyOption) (crypto.PublicKey, error) {
	sv, err := k.load()
	if err != nil {
		return nil, err
	}
	return sv.PublicKey(opts...)
}

func (k pemKey) SignMessage(message io.Reader, opts ...signature.SignOption) ([]byte, error) {
	sv, err := k.load()
	if err != nil {
		return nil, err
	}
	return sv.SignMessage(message, opts...)
}

func (k pemKey) VerifySignature(sig, message io.Reader, opts ...signature.VerifyOption) error {
	sv, err := k.load()
	if err != nil {
		return err
	}
	return sv.VerifySignature(sig, message, opts...)
}

func (k pemKey) CryptoSigner(context.Context, func(error)) (crypto.Signer, crypto.SignerOpts, error) {
	return nil, nil, errors.New("not offered over the plugin protocol")
}

func main() {
	args, err := handler.GetPluginArgs(os.Args)
	if err != nil {
		_ = handler.WriteErrorResponse(os.Stdout, err)
		os.Exit(1)
	}
	if os.Args[1] != "v1" {
		_ = handler.WriteErrorResponse(os.Stdout, fmt.Errorf("protocol %q", os.Args[1]))
		os.Exit(1)
	}
	impl := pemKey{path: args.InitOptions.KeyResourceID, hash: args.InitOptions.HashFunc}
	if _, err := handler.Dispatch(os.Stdout, os.Stdin, args, impl); err != nil {
		os.Exit(1)
	}
}
