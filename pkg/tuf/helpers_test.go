package tuf

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// testRepo is a repository directory served over HTTP on 127.0.0.1 by NewFileServer.
type testRepo struct {
	dir      string
	srv      *httptest.Server
	requests atomic.Int64
}

// newTestRepo creates a repository with the given options and the two client targets,
// publishes it and serves it.
func newTestRepo(t testing.TB, opts RepoOptions) *testRepo {
	t.Helper()
	tr := &testRepo{dir: filepath.Join(t.TempDir(), "repo")}
	if err := InitRepository(tr.dir, opts); err != nil {
		t.Fatalf("InitRepository: %v", err)
	}
	if err := AddTargets(tr.dir, map[string][]byte{
		TrustedRootTarget:   []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot.v0.2+json","v":1}`),
		SigningConfigTarget: []byte(`{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json","v":1}`),
	}); err != nil {
		t.Fatalf("AddTargets: %v", err)
	}
	tr.publish(t)
	files := NewFileServer(tr.dir)
	tr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.requests.Add(1)
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(tr.srv.Close)
	return tr
}

func (tr *testRepo) publish(t testing.TB) {
	t.Helper()
	if err := Publish(tr.dir); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

// published reads a file of the published repository.
func (tr *testRepo) published(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(tr.dir, publishDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// replace overwrites a file of the published repository, as a compromised mirror would.
func (tr *testRepo) replace(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(tr.dir, publishDir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// root returns the newest published root.json.
func (tr *testRepo) root(t testing.TB) []byte {
	t.Helper()
	return tr.published(t, "root.json")
}

// addTarget changes the trusted root target and publishes.
func (tr *testRepo) addTarget(t testing.TB, content string) {
	t.Helper()
	if err := AddTarget(tr.dir, TrustedRootTarget, []byte(content)); err != nil {
		t.Fatalf("AddTarget: %v", err)
	}
	tr.publish(t)
}

// version reads the version of a published metadata file.
func version(t testing.TB, data []byte) int64 {
	t.Helper()
	md, err := metadata.Timestamp().FromBytes(data)
	if err == nil {
		return md.Signed.Version
	}
	sn, err := metadata.Snapshot().FromBytes(data)
	if err == nil {
		return sn.Signed.Version
	}
	tg, err := metadata.Targets().FromBytes(data)
	if err == nil {
		return tg.Signed.Version
	}
	rt, err := metadata.Root().FromBytes(data)
	if err != nil {
		t.Fatalf("not TUF metadata: %v", err)
	}
	return rt.Signed.Version
}

// initClient runs Initialize against tr with a fresh cache and returns the cache directory.
func initClient(t testing.TB, tr *testRepo) string {
	t.Helper()
	cache := t.TempDir()
	if _, _, err := Initialize(context.Background(), InitOptions{Mirror: tr.srv.URL, Root: tr.root(t), CacheDir: cache}); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	return cache
}

// wantErr fails unless err is non-nil and its message holds every fragment.
func wantErr(t testing.TB, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Fatalf("error %q does not contain %q", err, f)
		}
	}
}

// at returns a clock fixed at now + d.
func at(d time.Duration) func() time.Time {
	t := time.Now().Add(d)
	return func() time.Time { return t }
}
