// Command sigstore-kms-filekey is a Sigstore KMS plugin that keeps its key in a file, so that
// key references "filekey://<path>" work with cosign-like, cosign and every other program that
// speaks the KMS plugin protocol. Install it on PATH. The file holds a PEM private key
// (PKCS#8, EC or RSA) or a cosign encrypted key, whose password is read from COSIGN_PASSWORD.
// createKey writes a new key (mode 0600, never replacing a file): encrypted with
// COSIGN_PASSWORD when that variable is set, else as plain PKCS#8.
package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/signer/kmsplugin"
)

func main() {
	err := kmsplugin.Serve(os.Args, os.Stdin, os.Stdout, func(o *kmsplugin.InitOptions) (kmsplugin.Handler, error) {
		if o.KeyResourceID == "" {
			return nil, errors.New("empty key path: use filekey://<path>")
		}
		return &fileKey{path: o.KeyResourceID}, nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sigstore-kms-filekey:", err)
		os.Exit(1)
	}
}

// fileKey serves one key file.
type fileKey struct{ path string }

func (k *fileKey) DefaultAlgorithm() string      { return "ecdsa-p256" }
func (k *fileKey) SupportedAlgorithms() []string { return signer.KeyAlgorithms() }

func (k *fileKey) load(ctx context.Context) (signer.Signer, error) {
	data, err := os.ReadFile(k.path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block != nil && (block.Type == signer.SigstorePrivateKeyPEMType || block.Type == signer.CosignPrivateKeyPEMType) {
		pw, ok := os.LookupEnv("COSIGN_PASSWORD")
		if !ok {
			return nil, fmt.Errorf("%s is encrypted: set COSIGN_PASSWORD", k.path)
		}
		return signer.LoadEncryptedPrivateKey(data, []byte(pw))
	}
	priv, err := signer.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.path, err)
	}
	return signer.NewSigner(priv)
}

func (k *fileKey) CreateKey(_ context.Context, algorithm string) ([]byte, error) {
	priv, err := signer.GenerateKey(algorithm)
	if err != nil {
		return nil, err
	}
	var out []byte
	if pw, ok := os.LookupEnv("COSIGN_PASSWORD"); ok {
		out, err = signer.MarshalEncryptedPrivateKey(priv, []byte(pw))
	} else {
		var der []byte
		der, err = x509.MarshalPKCS8PrivateKey(priv)
		out = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(k.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating key file: %w", err)
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return signer.MarshalPublicKeyPEM(priv.(crypto.Signer).Public())
}

func (k *fileKey) PublicKey(ctx context.Context) ([]byte, error) {
	s, err := k.load(ctx)
	if err != nil {
		return nil, err
	}
	return signer.MarshalPublicKeyPEM(s.Public())
}

// digestFor returns digest, or the hash of message when no digest was given, after checking
// that the hash is the one the key signs with.
func digestFor(s signer.Signer, message io.Reader, digest []byte, hash crypto.Hash) ([]byte, error) {
	if hash != 0 && hash != s.HashFunc() {
		return nil, fmt.Errorf("this key signs %s digests, %s requested", s.HashFunc(), hash)
	}
	if digest != nil {
		return digest, nil
	}
	h := s.HashFunc().New()
	if _, err := io.Copy(h, message); err != nil {
		return nil, fmt.Errorf("reading message: %w", err)
	}
	return h.Sum(nil), nil
}

func (k *fileKey) SignMessage(ctx context.Context, message io.Reader, digest []byte, hash crypto.Hash) ([]byte, error) {
	s, err := k.load(ctx)
	if err != nil {
		return nil, err
	}
	d, err := digestFor(s, message, digest, hash)
	if err != nil {
		return nil, err
	}
	return s.SignDigest(ctx, d)
}

func (k *fileKey) VerifySignature(ctx context.Context, message io.Reader, digest []byte, hash crypto.Hash, sig []byte) error {
	s, err := k.load(ctx)
	if err != nil {
		return err
	}
	d, err := digestFor(s, message, digest, hash)
	if err != nil {
		return err
	}
	return signer.VerifyDigest(s.Public(), d, sig)
}
