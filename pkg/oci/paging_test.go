package oci_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// pagedReferrers serves the registry's referrers list two entries per page, linking each page
// to the next with a Link header whose target nextHost may move elsewhere ("" = same host).
func pagedReferrers(nextHost string) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		rec := httptest.NewRecorder()
		q := r.URL.Query()
		r2 := r.Clone(r.Context())
		r2.URL.RawQuery = ""
		next.ServeHTTP(rec, r2)
		var idx v1.IndexManifest
		if err := json.Unmarshal(rec.Body.Bytes(), &idx); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		page, _ := strconv.Atoi(q.Get("page"))
		start, end := page*2, min(page*2+2, len(idx.Manifests))
		if end < len(idx.Manifests) {
			target := fmt.Sprintf("%s?page=%d", r.URL.Path, page+1)
			if nextHost != "" {
				target = "http://" + nextHost + target
			}
			w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, target))
		}
		idx.Manifests = idx.Manifests[start:end]
		w.Header().Set("Content-Type", oci.MediaTypeOCIIndex)
		_ = json.NewEncoder(w).Encode(idx)
	}
}

func TestReferrersPagination(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		nextHost string
		wantErr  string
	}{
		{name: "pages on the registry", nextHost: ""},
		{name: "next page on another host", nextHost: "127.0.0.1:1", wantErr: "on another host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, counter := testutil.NewHostileRegistry(t, testutil.Rule{Method: http.MethodGet, PathContains: "/referrers/", Handle: pagedReferrers(tt.nextHost)})
			img := testutil.PushRandomImage(t, host, "paged")
			_, desc := resolve(t, ctx, img)
			for i := 0; i < 5; i++ {
				if _, err := oci.AttachBundle(ctx, img, desc, fakeBundle(i), sigAnnotations()); err != nil {
					t.Fatal(err)
				}
			}
			counter.Reset()
			got, err := oci.ListAttached(ctx, img, nil, oci.WithLegacyLookup(oci.LegacyNever))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ListAttached error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != 5 {
				t.Fatalf("ListAttached = %d, %v; want 5", len(got), err)
			}
			if n := counter.CountMatching("GET /v2/paged/referrers/"); n != 3 {
				t.Fatalf("read %d referrers pages, want 3", n)
			}
		})
	}
}
