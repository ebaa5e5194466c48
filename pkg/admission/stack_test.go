package admission

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/devstack"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// devWorld is the in-process stack (registry, CA with SCTs, TSA, log, TUF repository) and
// what signing through it needs.
type devWorld struct {
	st       *devstack.Stack
	dir      string // the stack's state directory
	services *root.SigningConfig
	trusted  *root.TrustedRoot
}

func startDevWorld(t testing.TB) *devWorld {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := devstack.Start(ctx, devstack.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(ctx) })
	services, err := root.LoadSigningConfig(st.SigningConfigPath, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := root.LoadTrustedRoot(st.TrustedRootPath)
	if err != nil {
		t.Fatal(err)
	}
	return &devWorld{st: st, dir: dir, services: services, trusted: trusted}
}

// push pushes the sample image to the stack's registry at repo.
func (w *devWorld) push(t testing.TB, repo string) name.Digest {
	t.Helper()
	img, err := devstack.PushSample(context.Background(), w.st.RegistryHost+"/"+repo+":v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// keyless is a signer certified by the stack's CA for email, with the bundle options that
// timestamp and log what it signs.
func (w *devWorld) keyless(t testing.TB, email string) (signer.Signer, *cosign.BundleOptions) {
	t.Helper()
	ctx := context.Background()
	token, err := w.st.Issuer.Token(oidc.TokenRequest{Email: email})
	if err != nil {
		t.Fatal(err)
	}
	s, chain, err := cosign.Keyless(ctx, w.services.CAURL, token)
	if err != nil {
		t.Fatal(err)
	}
	o := w.logged(t)
	o.Chain, o.TSAURL = chain, w.services.TSAURL
	return s, o
}

// logged are bundle options that log what a key signs in the stack's log.
func (w *devWorld) logged(t testing.TB) *cosign.BundleOptions {
	t.Helper()
	keys, err := w.trusted.LogKeys(w.services.RekorURL)
	if err != nil {
		t.Fatal(err)
	}
	return &cosign.BundleOptions{RekorURL: w.services.RekorURL, LogKeys: keys, StateDir: t.TempDir()}
}

// sign signs img with s under o.
func sign(t testing.TB, img name.Digest, s signer.Signer, o *cosign.BundleOptions) {
	t.Helper()
	if _, err := cosign.SignImage(context.Background(), img.String(), cosign.SignOptions{Signer: s, BundleOptions: o}); err != nil {
		t.Fatal(err)
	}
}

// attestWith attests img with a predicate of the type, signed by s under o.
func attestWith(t testing.TB, img name.Digest, s signer.Signer, o *cosign.BundleOptions, predicateType string, predicate []byte) {
	t.Helper()
	if _, err := cosign.AttestImage(context.Background(), img.String(), cosign.AttestOptions{Signer: s, BundleOptions: o, PredicateType: predicateType, Predicate: predicate}); err != nil {
		t.Fatal(err)
	}
}
