package oci_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// authRegistry starts a registry that demands Basic credentials (user/pass) or, with bearer,
// a token from its own /token endpoint (which itself demands Basic credentials).
func authRegistry(t *testing.T, bearer bool) (string, *testutil.RequestCounter) {
	t.Helper()
	inner := testutil.RegistryHandler()
	var host string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		goodBasic := ok && user == "alice" && pass == "s3cret"
		if r.URL.Path == "/token" {
			if !goodBasic {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			fmt.Fprintf(w, `{"token":"tok-%s"}`, strings.ReplaceAll(r.URL.Query().Get("scope"), " ", "+"))
			return
		}
		if bearer {
			if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-repository:") {
				inner.ServeHTTP(w, r)
				return
			}
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test"`, host))
		} else {
			if goodBasic {
				inner.ServeHTTP(w, r)
				return
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		}
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
	})
	counted, counter := testutil.Count(h)
	host = testutil.Serve(t, counted)
	return host, counter
}

func TestAuthentication(t *testing.T) {
	ctx := context.Background()
	for _, bearer := range []bool{false, true} {
		t.Run(fmt.Sprintf("bearer=%v", bearer), func(t *testing.T) {
			host, counter := authRegistry(t, bearer)
			img, err := random.Image(256, 1)
			if err != nil {
				t.Fatal(err)
			}
			tag, err := name.NewTag(host + "/private:latest")
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(tag, img, remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret"})); err != nil {
				t.Fatalf("pushing with credentials: %v", err)
			}
			creds := oci.WithBasicAuth("alice", "s3cret")
			counter.Reset()
			d, desc, err := oci.Resolve(ctx, tag.String(), creds)
			if err != nil {
				t.Fatalf("Resolve with credentials: %v", err)
			}
			// One anonymous attempt answered 401 (no /v2/ ping), a token for bearer, the retry.
			want := 2
			if bearer {
				want = 3
			}
			if counter.Count() != want {
				t.Fatalf("Resolve made %d requests, want %d: %v", counter.Count(), want, counter.Requests())
			}
			if _, err := oci.AttachBundle(ctx, d, desc, fakeBundle(1), sigAnnotations(), creds); err != nil {
				t.Fatalf("AttachBundle with credentials: %v", err)
			}
			// With a shared AuthCache, sign (Resolve + AttachBundle) answers the challenge once:
			// Basic: GET 401, GET, POST, POST, PUT; Bearer: the same plus a pull token and a
			// push token fetched without another 401.
			cache := oci.NewAuthCache()
			counter.Reset()
			d, desc, err = oci.Resolve(ctx, tag.String(), creds, oci.WithAuthCache(cache))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := oci.AttachBundle(ctx, d, desc, fakeBundle(2), sigAnnotations(), creds, oci.WithAuthCache(cache)); err != nil {
				t.Fatal(err)
			}
			wantSign := 5
			if bearer {
				wantSign = 7
			}
			if counter.Count() != wantSign {
				t.Fatalf("sign with a shared AuthCache made %d requests, want %d: %v", counter.Count(), wantSign, counter.Requests())
			}
			if got, err := oci.ListAttached(ctx, d, nil, creds); err != nil || len(got) != 2 {
				t.Fatalf("ListAttached with credentials = %d, %v", len(got), err)
			}
			_, _, err = oci.Resolve(ctx, host+"/private:latest")
			if err == nil || !strings.Contains(err.Error(), "authenticating") {
				t.Fatalf("Resolve without credentials = %v, want an authentication error", err)
			}
			_, _, err = oci.Resolve(ctx, host+"/private:latest", oci.WithAuth(authn.NewMultiKeychain()))
			if err == nil {
				t.Fatal("Resolve with an empty keychain succeeded")
			}
			_, _, err = oci.Resolve(ctx, host+"/private:latest", oci.WithBasicAuth("alice", "wrong"))
			if err == nil {
				t.Fatal("Resolve with a wrong password succeeded")
			}
		})
	}
}

// TestCredentialsStayWithRegistry: an upload Location on another host gets the blob but never
// the registry's credentials.
func TestCredentialsStayWithRegistry(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var leaked []string
	other := testutil.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if a := r.Header.Get("Authorization"); a != "" {
			leaked = append(leaked, a)
		}
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	inner := testutil.RegistryHandler()
	host := testutil.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/blobs/uploads/") {
			w.Header().Set("Location", "http://"+other+"/upload/123?state=x")
			w.WriteHeader(http.StatusAccepted)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	d, err := name.NewDigest(host + "/app@sha256:" + strings.Repeat("b", 64))
	if err != nil {
		t.Fatal(err)
	}
	desc := v1.Descriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Size: 100, Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("b", 64)}}
	_, _ = oci.AttachBundle(ctx, d, desc, fakeBundle(1), sigAnnotations(), oci.WithBasicAuth("alice", "s3cret"))
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) != 0 {
		t.Fatalf("credentials sent to the upload host: %v", leaked)
	}
}
