package admission

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/cosign-like/cosign-like/pkg/oci"
)

// fetcher reads each image's attached signatures and attestations once per source for a
// whole Decide call.
type fetcher struct {
	registry []oci.Option
	mu       sync.Mutex
	m        map[string]*fetchEntry
}

type fetchEntry struct {
	once  sync.Once
	found []oci.Attached
	err   error
}

func (f *fetcher) attached(ctx context.Context, digest name.Digest, src source) ([]oci.Attached, error) {
	subject := digest
	if src.repo != "" {
		repo, err := name.NewRepository(src.repo)
		if err != nil {
			return nil, err
		}
		subject = repo.Digest(digest.DigestStr())
	}
	key := subject.String() + "|" + src.tagPrefix
	f.mu.Lock()
	e, ok := f.m[key]
	if !ok {
		e = &fetchEntry{}
		f.m[key] = e
	}
	f.mu.Unlock()
	e.once.Do(func() {
		opts := append(append([]oci.Option(nil), f.registry...), oci.WithLegacyTagPrefix(src.tagPrefix))
		e.found, e.err = retryUnreachable(ctx, func() ([]oci.Attached, error) {
			found, err := oci.ListAttached(ctx, subject, []oci.Kind{oci.KindSignature, oci.KindAttestation}, opts...)
			if err != nil {
				err = registryError(ctx, "listing the signatures and attestations of "+subject.String(), err)
			}
			return found, err
		})
	})
	return e.found, e.err
}

// retryUnreachable calls fn again while it fails because the registry could not be reached
// (an answer cut short, errors that outlasted the client's own retries), waiting a little
// longer each time, until ctx ends.
func retryUnreachable[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	wait := 100 * time.Millisecond
	for {
		v, err := fn()
		if err == nil || !errors.Is(err, ErrRegistryUnreachable) || ctx.Err() != nil {
			return v, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, err
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// registryError says a registry could not be reached when that is why err happened: the
// budget ran out, the network failed, an answer was cut short, or the registry answered 5xx or
// 429 to the last retry.
func registryError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %s: %w", budgetError(ctx), what, err)
	}
	var re *oci.RegistryError
	var ne net.Error
	if (errors.As(err, &re) && (re.StatusCode >= 500 || re.StatusCode == http.StatusTooManyRequests)) ||
		errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s: %w", ErrRegistryUnreachable, what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
