package signer

import (
	"context"
	"fmt"
)

func loadPKCS11Signer(_ context.Context, keyRef string) (Signer, error) {
	return nil, fmt.Errorf("%w: PKCS#11 key %q: PKCS#11 support is not in this build yet", ErrUnsupportedKey, keyRef)
}

func loadPluginSigner(_ context.Context, scheme, keyRef string) (Signer, error) {
	return nil, fmt.Errorf("%w: KMS key %q: provider %q is not available yet", ErrUnsupportedKey, keyRef, scheme)
}
