package tuf

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// OpenServer refuses a directory with nothing published, and serves a published one with the
// shared endpoints.
func TestOpenServer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := OpenServer(ctx, dir, ServerOptions{}); !errors.Is(err, ErrNotPublished) {
		t.Fatalf("OpenServer on an empty directory: %v", err)
	}
	rootJSON, err := NewDevRepository(dir, map[string][]byte{TrustedRootTarget: []byte(`{}`)}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenServer(ctx, dir, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for path, want := range map[string]int{"/root.json": 200, "/healthz": 200, "/metrics": 200, "/config.json": 404} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
		if path == "/root.json" && string(body) != string(rootJSON) {
			t.Errorf("GET /root.json is not the published root")
		}
	}
}
