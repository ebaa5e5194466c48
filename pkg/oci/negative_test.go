package oci_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
)

func fastRetry() oci.Option { return oci.WithRetry(oci.Retry{Backoff: time.Millisecond}) }

func TestRetryAfterServerErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		failures int
		wantErr  string
	}{
		{name: "500 twice then 200", failures: 2},
		{name: "500 more often than the attempts", failures: 10, wantErr: "after 4 attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, counter := testutil.NewHostileRegistry(t, testutil.Rule{Method: http.MethodGet, PathContains: "/manifests/sha256:", Handle: testutil.FailFirst(tt.failures, http.StatusInternalServerError)})
			img := testutil.PushRandomImage(t, host, "retry")
			counter.Reset()
			d, _, err := oci.Resolve(ctx, img.String(), fastRetry())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "500") {
					t.Fatalf("Resolve error = %v, want it to contain %q and 500", err, tt.wantErr)
				}
				if got := counter.Count(); got != 4 {
					t.Fatalf("made %d requests, want 4 attempts", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if d.String() != img.String() {
				t.Fatalf("Resolve = %s, want %s", d, img)
			}
			if got := counter.Count(); got != tt.failures+1 {
				t.Fatalf("made %d requests, want %d", got, tt.failures+1)
			}
		})
	}
}

func TestWrongDigestManifestFails(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewHostileRegistry(t, testutil.Rule{Method: http.MethodGet, PathContains: "/manifests/sha256:", Handle: testutil.ServeOtherManifest()})
	img := testutil.PushRandomImage(t, host, "lying")
	_, _, err := oci.Resolve(ctx, img.String())
	t.Logf("error: %v", err)
	if !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("Resolve error = %v, want ErrDigestMismatch", err)
	}
	want := fmt.Sprintf("for %s", img.DigestStr())
	if !strings.Contains(err.Error(), "registry returned manifest sha256:") || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name both digests", err)
	}
	// ResolveChildren and ListAttached read manifests by digest the same way.
	if _, _, err := oci.ResolveChildren(ctx, img); !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("ResolveChildren error = %v, want ErrDigestMismatch", err)
	}
}

func TestMoreThanMaxArtifactsIsBoundedError(t *testing.T) {
	ctx := context.Background()
	host, counter := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "flood")
	_, desc := resolve(t, ctx, img)
	for i := 0; i < 101; i++ {
		if _, err := oci.AttachBundle(ctx, img, desc, fakeBundle(i), sigAnnotations()); err != nil {
			t.Fatalf("AttachBundle #%d: %v", i, err)
		}
	}
	counter.Reset()
	_, err := oci.ListAttached(ctx, img, nil)
	t.Logf("error: %v", err)
	var le *oci.LimitError
	if !errors.As(err, &le) || !errors.Is(err, oci.ErrLimitExceeded) {
		t.Fatalf("ListAttached error = %v, want a LimitError", err)
	}
	if !strings.Contains(err.Error(), "101 exceeds the limit of 100") || !strings.Contains(err.Error(), "attached artifacts") {
		t.Fatalf("error %q does not name the limit", err)
	}
	if n := counter.CountMatching("GET /v2/flood/manifests/sha256:") + counter.CountMatching("GET /v2/flood/blobs/"); n != 0 {
		t.Fatalf("fetched %d artifacts before refusing: %v", n, counter.Requests())
	}
	if got := counter.Count(); got != 1 {
		t.Fatalf("made %d requests, want 1 (the referrers list): %v", got, counter.Requests())
	}
	// A raised limit reads them all.
	all, err := oci.ListAttached(ctx, img, nil, oci.WithLimits(oci.Limits{MaxArtifacts: 200}), oci.WithLegacyLookup(oci.LegacyNever))
	if err != nil || len(all) != 101 {
		t.Fatalf("ListAttached with MaxArtifacts 200 = %d, %v; want 101", len(all), err)
	}
}

func TestHundredThousandReferrersRefusedEarly(t *testing.T) {
	ctx := context.Background()
	host, counter := testutil.NewHostileRegistry(t, testutil.Rule{Method: http.MethodGet, PathContains: "/referrers/", Handle: testutil.ServeManyReferrers(100000)})
	img := testutil.PushRandomImage(t, host, "flood")
	counter.Reset()
	start := time.Now()
	_, err := oci.ListAttached(ctx, img, nil)
	if !errors.Is(err, oci.ErrLimitExceeded) || !strings.Contains(err.Error(), "more than 1000 referrers") {
		t.Fatalf("ListAttached error = %v, want a referrers limit error", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("refusal took %v", time.Since(start))
	}
	if got := counter.Count(); got != 1 {
		t.Fatalf("made %d requests, want 1: %v", got, counter.Requests())
	}
}

func TestMillionLayersRejectedBeforeAllocating(t *testing.T) {
	ctx := context.Background()
	const layers = 1_000_000
	host, _ := testutil.NewHostileRegistry(t,
		testutil.Rule{Method: http.MethodGet, PathContains: ".sig", Handle: testutil.ServeManyLayers(layers, oci.MediaTypeSimpleSigning)},
		testutil.Rule{Method: http.MethodGet, PathContains: "/manifests/huge", Handle: testutil.ServeManyLayers(layers, "application/vnd.oci.image.layer.v1.tar+gzip")},
	)
	img := testutil.PushRandomImage(t, host, "layers")
	tests := []struct {
		name string
		call func() error
	}{
		{"legacy signature tag", func() error {
			_, err := oci.ListAttached(ctx, img, []oci.Kind{oci.KindSignature})
			return err
		}},
		{"image to sign", func() error {
			_, _, err := oci.Resolve(ctx, img.Context().Tag("huge").String())
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err := tt.call()
			runtime.ReadMemStats(&after)
			t.Logf("error: %v", err)
			if !errors.Is(err, oci.ErrLimitExceeded) || !strings.Contains(err.Error(), "more than 1000 layers") {
				t.Fatalf("error = %v, want a layers limit error", err)
			}
			// Decoding a million descriptors would allocate hundreds of megabytes.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Fatalf("allocated %d MiB before refusing", alloc>>20)
			}
		})
	}
}

func TestHugeLayerNeverRequested(t *testing.T) {
	ctx := context.Background()
	handler, layer := testutil.ServeHugeLayer(10<<30, oci.MediaTypeSimpleSigning, map[string]string{oci.AnnotationSignature: "c2ln"})
	host, counter := testutil.NewHostileRegistry(t, testutil.Rule{Method: http.MethodGet, PathContains: ".sig", Handle: handler})
	img := testutil.PushRandomImage(t, host, "huge")
	counter.Reset()
	_, err := oci.ListAttached(ctx, img, []oci.Kind{oci.KindSignature})
	t.Logf("error: %v", err)
	var le *oci.LimitError
	if !errors.As(err, &le) || le.What != "blob size" || le.Got != 10<<30 {
		t.Fatalf("ListAttached error = %v, want a blob size LimitError", err)
	}
	if !strings.Contains(err.Error(), "10737418240 exceeds the limit of 134217728") {
		t.Fatalf("error %q does not name the sizes", err)
	}
	for _, r := range counter.Requests() {
		if strings.Contains(r, layer) {
			t.Fatalf("the 10 GiB layer was requested: %v", counter.Requests())
		}
	}
}

func TestFailedIndexUpdateLeavesNoReferrer(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewHostileRegistry(t, testutil.Rule{Method: http.MethodPut, PathContains: "/manifests/sha256-", Handle: testutil.FailFirst(1000, http.StatusInternalServerError)})
	img := testutil.PushRandomImage(t, host, "atomic")
	_, desc := resolve(t, ctx, img)
	_, err := oci.AttachBundle(ctx, img, desc, fakeBundle(1), sigAnnotations(), oci.WithReferrersMode(oci.ReferrersLegacy), fastRetry())
	if err == nil || !strings.Contains(err.Error(), "updating referrers tag") {
		t.Fatalf("AttachBundle error = %v, want an index update failure", err)
	}
	// The registry's own referrers API would still list the manifest had it been left behind.
	got, err := oci.ListAttached(ctx, img, nil, oci.WithReferrersMode(oci.ReferrersOCI11), oci.WithLegacyLookup(oci.LegacyNever))
	if err != nil {
		t.Fatalf("ListAttached: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("a failed attach left %d referrers behind", len(got))
	}
}

func TestBadInputs(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "bad")
	_, desc := resolve(t, ctx, img)
	other := img.Context().Digest("sha256:" + strings.Repeat("a", 64))
	tests := []struct {
		name string
		call func(t *testing.T) error
		want string
	}{
		{"unparsable reference", func(t *testing.T) error { _, _, err := oci.Resolve(ctx, "UPPER CASE/../x"); return err }, "invalid image reference"},
		{"missing image", func(t *testing.T) error { _, _, err := oci.Resolve(ctx, host+"/bad:nope"); return err }, "MANIFEST_UNKNOWN"},
		{"descriptor of another image", func(t *testing.T) error {
			_, err := oci.AttachBundle(ctx, other, desc, fakeBundle(1), sigAnnotations())
			return err
		}, "does not describe"},
		{"bundle not JSON", func(t *testing.T) error {
			_, err := oci.AttachBundle(ctx, img, desc, []byte("not json"), sigAnnotations())
			return err
		}, "not a JSON document"},
		{"unknown kind", func(t *testing.T) error { _, err := oci.ListAttached(ctx, img, []oci.Kind{"picture"}); return err }, `invalid artifact kind "picture"`},
		{"empty legacy payload", func(t *testing.T) error {
			return oci.AttachLegacy(ctx, img, oci.KindSignature, nil, oci.MediaTypeSimpleSigning, nil)
		}, "payload"},
		{"referrers API required", func(t *testing.T) error {
			d, _ := testutil.NewRegistryWithoutReferrers(t)
			img := testutil.PushRandomImage(t, d, "bad")
			_, err := oci.ListAttached(ctx, img, nil, oci.WithReferrersMode(oci.ReferrersOCI11))
			return err
		}, "does not support the OCI 1.1 referrers API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(t)
			t.Logf("error: %v", err)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := oci.ParseReferrersMode("sometimes"); !errors.Is(err, oci.ErrInvalidInput) {
		t.Fatalf("ParseReferrersMode error = %v", err)
	}
}

// TestHugeBundleLayerNeverRequested: a referrer whose bundle layer declares 10 GiB is refused
// from its descriptor; the layer is never requested.
func TestHugeBundleLayerNeverRequested(t *testing.T) {
	ctx := context.Background()
	host, counter := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "huge")
	_, desc := resolve(t, ctx, img)
	layer := "sha256:" + strings.Repeat("c", 64)
	mf := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":%q,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":%q,"digest":%q,"size":%d}],"subject":{"mediaType":%q,"digest":%q,"size":%d}}`,
		oci.MediaTypeBundleV03, oci.MediaTypeBundleV03, layer, int64(10<<30), desc.MediaType, desc.Digest, desc.Size)
	req, err := http.NewRequest(http.MethodPut, "http://"+host+"/v2/huge/manifests/bundle", strings.NewReader(mf))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", oci.MediaTypeOCIManifest)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("pushing the crafted manifest: %v %v", resp, err)
	}
	resp.Body.Close()
	counter.Reset()
	_, err = oci.ListAttached(ctx, img, nil)
	var le *oci.LimitError
	if !errors.As(err, &le) || le.What != "blob size" || le.Got != 10<<30 {
		t.Fatalf("ListAttached error = %v, want a blob size LimitError", err)
	}
	for _, r := range counter.Requests() {
		if strings.Contains(r, layer) {
			t.Fatalf("the 10 GiB bundle layer was requested: %v", counter.Requests())
		}
	}
}

// TestUploadWithoutMonolithicSupport: a registry that refuses the single-request upload (POST
// with a digest) still receives the blobs through an upload session.
func TestUploadWithoutMonolithicSupport(t *testing.T) {
	ctx := context.Background()
	refuse := func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.URL.Query().Get("digest") != "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"errors":[{"code":"UNSUPPORTED","message":"monolithic upload unsupported"}]}`)
			return
		}
		next.ServeHTTP(w, r)
	}
	host, counter := testutil.NewHostileRegistry(t, testutil.Rule{Method: http.MethodPost, PathContains: "/blobs/uploads/", Handle: refuse})
	img := testutil.PushRandomImage(t, host, "plain")
	_, desc := resolve(t, ctx, img)
	counter.Reset()
	if _, err := oci.AttachBundle(ctx, img, desc, fakeBundle(1), sigAnnotations()); err != nil {
		t.Fatalf("AttachBundle: %v", err)
	}
	got, err := oci.ListAttached(ctx, img, nil)
	if err != nil || len(got) != 1 {
		t.Fatalf("ListAttached = %d, %v", len(got), err)
	}
}

// TestOCI11ModeRequiresAcknowledgement: forcing the referrers API on a registry that does not
// acknowledge the subject fails, and the manifest written is removed again.
func TestOCI11ModeRequiresAcknowledgement(t *testing.T) {
	ctx := context.Background()
	host, counter := testutil.NewRegistryWithoutReferrers(t)
	img := testutil.PushRandomImage(t, host, "forced")
	_, desc := resolve(t, ctx, img)
	counter.Reset()
	_, err := oci.AttachBundle(ctx, img, desc, fakeBundle(1), sigAnnotations(), oci.WithReferrersMode(oci.ReferrersOCI11))
	t.Logf("error: %v", err)
	if !errors.Is(err, oci.ErrReferrersUnsupported) || !strings.Contains(err.Error(), "OCI-Subject") {
		t.Fatalf("AttachBundle error = %v, want ErrReferrersUnsupported", err)
	}
	var put string
	for _, r := range counter.Requests() {
		if strings.HasPrefix(r, "PUT /v2/forced/manifests/sha256:") {
			put = strings.TrimPrefix(r, "PUT ")
		}
		if strings.Contains(r, "/manifests/sha256-") {
			t.Fatalf("the tag index was touched in oci-1-1 mode: %v", counter.Requests())
		}
	}
	if put == "" || counter.CountMatching("DELETE "+put) != 1 {
		t.Fatalf("the unacknowledged manifest was not deleted: %v", counter.Requests())
	}
}
