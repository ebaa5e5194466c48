package ca_test

import (
	"context"
	"fmt"

	"github.com/cosign-like/cosign-like/pkg/ca"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/tsa"
)

// Keyless signing, client side: a token, an ephemeral key, a certificate for it, a signature and
// a timestamp over the signature.
func ExampleRequestCertificate() {
	ctx := context.Background()
	token, err := oidc.GetToken(ctx, oidc.Options{DisableInteractive: true}) // flag, env or GitHub Actions
	if err != nil {
		panic(err)
	}
	s, err := signer.GenerateEphemeral()
	if err != nil {
		panic(err)
	}
	chain, err := ca.RequestCertificate(ctx, "http://127.0.0.1:5555", token, s)
	if err != nil {
		panic(err)
	}
	fmt.Println("certificate for", chain[0].EmailAddresses, chain[0].URIs)
	digest := make([]byte, s.HashFunc().Size()) // the artifact's digest
	sig, err := s.SignDigest(ctx, digest)
	if err != nil {
		panic(err)
	}
	ts, err := tsa.Timestamp(ctx, "http://127.0.0.1:3004/api/v1/timestamp", sig)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(ts) > 0)
}
