package oci_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestTLSRegistry: a loopback registry is reached over plain HTTP by default, and over TLS
// without certificate verification with WithInsecure(true) (--allow-insecure-registry).
func TestTLSRegistry(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewTLSServer(testutil.RegistryHandler())
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(u.Host + "/tls:latest")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, remote.WithTransport(srv.Client().Transport)); err != nil {
		t.Fatalf("seeding: %v", err)
	}
	if _, _, err := oci.Resolve(ctx, tag.String(), oci.WithInsecure(false), oci.WithRetry(oci.Retry{Attempts: 1})); err == nil || !strings.Contains(err.Error(), "400 Bad Request") {
		t.Fatalf("Resolve over plain HTTP of a TLS-only loopback registry = %v, want the server's 400", err)
	}
	d, desc, err := oci.Resolve(ctx, tag.String(), oci.WithInsecure(true))
	if err != nil {
		t.Fatalf("Resolve with WithInsecure: %v", err)
	}
	if _, err := oci.AttachBundle(ctx, d, desc, fakeBundle(1), sigAnnotations(), oci.WithInsecure(true)); err != nil {
		t.Fatalf("AttachBundle with WithInsecure: %v", err)
	}
}
