package tuf

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
)

// overrideTransport answers requests from a repository directory's file server, except for one
// file whose content it replaces, without opening a socket.
type overrideTransport struct {
	files   http.Handler
	name    string
	content []byte
}

func (o *overrideTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	if req.URL.Path == "/"+o.name {
		rec.WriteHeader(http.StatusOK)
		rec.Write(o.content)
	} else {
		o.files.ServeHTTP(rec, req)
	}
	return rec.Result(), nil
}

// FuzzClientMetadata serves arbitrary bytes in place of the timestamp, the snapshot or the
// targets metadata to a client that has a cache: it must never panic, and must never hand out
// content other than what the repository signed. Each run verifies signatures, so new inputs
// take long to minimize: run it with -fuzzminimizetime 2s.
func FuzzClientMetadata(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "repo")
	if err := InitRepository(dir, RepoOptions{}); err != nil {
		f.Fatal(err)
	}
	signed := []byte(`{"signed":"content"}`)
	if err := AddTargets(dir, map[string][]byte{TrustedRootTarget: signed}); err != nil {
		f.Fatal(err)
	}
	if err := Publish(dir); err != nil {
		f.Fatal(err)
	}
	files := NewFileServer(dir)
	const mirror = "http://tuf.invalid"
	cache := f.TempDir()
	root, err := readBounded(filepath.Join(dir, publishDir, "1.root.json"), maxRootSize)
	if err != nil {
		f.Fatal(err)
	}
	hc := &http.Client{Transport: &overrideTransport{files: files}}
	if _, _, err := Initialize(context.Background(), InitOptions{Mirror: mirror, Root: root, CacheDir: cache, HTTPClient: hc}); err != nil {
		f.Fatal(err)
	}
	names := []string{"timestamp.json", "2.snapshot.json", "2.targets.json", "2.root.json"}
	for i, n := range names {
		data, err := readBounded(filepath.Join(dir, publishDir, n), maxMetadataFile)
		if err != nil {
			data = []byte(`{"signed":{"_type":"root","version":2},"signatures":[]}`)
		}
		f.Add(uint8(i), data)
		f.Add(uint8(i), bytes.Replace(data, []byte(`"version": 2`), []byte(`"version": 3`), 1))
	}
	f.Fuzz(func(t *testing.T, which uint8, content []byte) {
		tp := &overrideTransport{files: files, name: names[int(which)%len(names)], content: content}
		got, _, err := loadTargets(context.Background(), LoadOptions{Mirror: mirror, CacheDir: cache, HTTPClient: &http.Client{Transport: tp}})
		if err == nil && !bytes.Equal(got, signed) {
			t.Fatalf("Load returned unsigned content %q", got)
		}
	})
}
