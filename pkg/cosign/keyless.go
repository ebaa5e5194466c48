package cosign

import (
	"context"
	"crypto/x509"
	"errors"

	"github.com/cosign-like/cosign-like/pkg/ca"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// ErrNoCA is returned when keyless signing has no CA to get a certificate from.
var ErrNoCA = errors.New("keyless signing needs a CA")

// Keyless makes an ephemeral key and trades idToken for a certificate naming its holder at the
// CA at caURL. The private key lives only in memory and is gone when the returned Signer is.
// It returns the signer and the chain, leaf first.
func Keyless(ctx context.Context, caURL, idToken string) (signer.Signer, []*x509.Certificate, error) {
	if caURL == "" {
		return nil, nil, ErrNoCA
	}
	if idToken == "" {
		return nil, nil, errors.New("keyless signing needs an OIDC identity token")
	}
	s, err := signer.GenerateEphemeral()
	if err != nil {
		return nil, nil, err
	}
	chain, err := ca.RequestCertificate(ctx, caURL, idToken, s)
	if err != nil {
		return nil, nil, err
	}
	return s, chain, nil
}
