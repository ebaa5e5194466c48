package oci_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
)

// streamedJSON returns a Blob of a JSON document of about size bytes that is generated anew at
// each Open (never held whole), the digest of its first produce bytes, and a count of Opens.
// With produce < size, Open yields fewer bytes than the Blob declares.
func streamedJSON(t *testing.T, size, produce int64) (oci.Blob, *atomic.Int32) {
	t.Helper()
	open := func() io.Reader {
		body := io.LimitReader(repeatReader('a'), size-int64(len(`{"x":""}`)))
		return io.LimitReader(io.MultiReader(strings.NewReader(`{"x":"`), body, strings.NewReader(`"}`)), produce)
	}
	h := sha256.New()
	if _, err := io.Copy(h, open()); err != nil {
		t.Fatal(err)
	}
	opens := new(atomic.Int32)
	return oci.Blob{
		Size:   size,
		Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))},
		Open: func() (io.Reader, error) {
			opens.Add(1)
			return open(), nil
		},
	}, opens
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// TestAttachBundleBlobRetriesWithFreshReader: a streamed bundle whose upload fails twice is
// opened again for each attempt and arrives whole.
func TestAttachBundleBlobRetriesWithFreshReader(t *testing.T) {
	ctx := context.Background()
	var armed atomic.Bool // fail uploads only once the image is pushed
	failures := new(atomic.Int32)
	failPut := func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if armed.Load() && failures.Add(1) <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		next.ServeHTTP(w, r)
	}
	host, _ := testutil.NewHostileRegistry(t, testutil.Rule{Method: http.MethodPut, PathContains: "/blobs/uploads/", Handle: failPut})
	img := testutil.PushRandomImage(t, host, "stream")
	armed.Store(true)
	_, desc := resolve(t, ctx, img)
	const size = 3 << 20 // larger than a monolithic POST carries
	blob, opens := streamedJSON(t, size, size)
	if _, err := oci.AttachBundleBlob(ctx, img, desc, blob, sigAnnotations(), fastRetry()); err != nil {
		t.Fatalf("AttachBundleBlob: %v", err)
	}
	if n := opens.Load(); n < 2 {
		t.Fatalf("the blob was opened %d times; a failed upload must be sent again from the start", n)
	}
	got, err := oci.ListAttached(ctx, img, nil)
	if err != nil || len(got) != 1 {
		t.Fatalf("ListAttached = %d, %v", len(got), err)
	}
	sum := sha256.Sum256(got[0].Bytes)
	if int64(len(got[0].Bytes)) != size || hex.EncodeToString(sum[:]) != blob.Digest.Hex {
		t.Fatalf("stored bundle: %d bytes, sha256 %x; want %d bytes, %s", len(got[0].Bytes), sum, size, blob.Digest.Hex)
	}
	if !bytes.HasPrefix(got[0].Bytes, []byte(`{"x":"aaa`)) {
		t.Fatalf("stored bundle starts %q", got[0].Bytes[:16])
	}
}

// TestShortBlobLeavesNothing: a streamed blob that yields fewer bytes than it declares fails the
// attachment with the upload named, and no referrer or legacy layer is left behind.
func TestShortBlobLeavesNothing(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "short")
	_, desc := resolve(t, ctx, img)
	blob, _ := streamedJSON(t, 2<<20, 1<<20)
	if _, err := oci.AttachBundleBlob(ctx, img, desc, blob, sigAnnotations(), fastRetry()); err == nil || !strings.Contains(err.Error(), "uploading blob") {
		t.Fatalf("AttachBundleBlob error = %v, want the upload to fail", err)
	}
	if err := oci.AttachLegacyBlob(ctx, img, oci.KindAttestation, blob, oci.MediaTypeDSSE, map[string]string{oci.AnnotationPredicateType: "https://e.com/p"}, fastRetry()); err == nil || !strings.Contains(err.Error(), "uploading blob") {
		t.Fatalf("AttachLegacyBlob error = %v, want the upload to fail", err)
	}
	got, err := oci.ListAttached(ctx, img, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("ListAttached = %d, %v; want nothing attached", len(got), err)
	}
}
