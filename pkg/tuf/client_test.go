package tuf

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

func TestInitializeAndLoad(t *testing.T) {
	ctx := context.Background()
	tr := newTestRepo(t, RepoOptions{})
	cache := t.TempDir()
	trusted, signing, err := Initialize(ctx, InitOptions{Mirror: tr.srv.URL + "/", Root: tr.root(t), CacheDir: cache})
	if err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	if !bytes.Contains(trusted, []byte("trustedroot")) || !bytes.Contains(signing, []byte("signingconfig")) {
		t.Fatalf("Initialize returned %q and %q", trusted, signing)
	}
	// Load with the mirror Initialize recorded, online then offline.
	for _, offline := range []bool{false, true} {
		tr2, sc2, err := loadTargets(ctx, LoadOptions{CacheDir: cache, Offline: offline})
		if err != nil {
			t.Fatalf("Load(offline=%v): %v", offline, err)
		}
		if !bytes.Equal(tr2, trusted) || !bytes.Equal(sc2, signing) {
			t.Fatalf("Load(offline=%v) returned other content", offline)
		}
	}
	// A new target version reaches an online client, and then the offline cache.
	tr.addTarget(t, `{"mediaType":"application/vnd.dev.sigstore.trustedroot.v0.2+json","v":2}`)
	got, _, err := loadTargets(ctx, LoadOptions{CacheDir: cache})
	if err != nil || !strings.Contains(string(got), `"v":2`) {
		t.Fatalf("online Load after update: %q, %v", got, err)
	}
	before := tr.requests.Load()
	got, _, err = loadTargets(ctx, LoadOptions{CacheDir: cache, Offline: true})
	if err != nil || !strings.Contains(string(got), `"v":2`) {
		t.Fatalf("offline Load after update: %q, %v", got, err)
	}
	if n := tr.requests.Load() - before; n != 0 {
		t.Fatalf("offline Load made %d requests", n)
	}
}

func TestInitializeErrors(t *testing.T) {
	ctx := context.Background()
	tr := newTestRepo(t, RepoOptions{})
	root := tr.root(t)
	other := newTestRepo(t, RepoOptions{})
	tests := []struct {
		name string
		opts InitOptions
		is   error
		want []string
	}{
		{"no mirror", InitOptions{Root: root}, ErrBadOption, []string{"no TUF mirror URL"}},
		{"ftp mirror", InitOptions{Mirror: "ftp://127.0.0.1/", Root: root}, ErrBadOption, []string{"scheme must be http or https"}},
		{"credentials in mirror", InitOptions{Mirror: "http://u:p@127.0.0.1/", Root: root}, ErrBadOption, []string{"without credentials"}},
		{"no root", InitOptions{Mirror: tr.srv.URL}, ErrBadOption, []string{"no initial root.json"}},
		{"checksum mismatch", InitOptions{Mirror: tr.srv.URL, Root: root, RootChecksum: strings.Repeat("ab", 32)}, ErrRootChecksum, []string{"want sha256 abab", "root has"}},
		{"checksum not hex", InitOptions{Mirror: tr.srv.URL, Root: root, RootChecksum: "xyz"}, ErrBadOption, []string{"not 64 hex digits"}},
		{"root not JSON", InitOptions{Mirror: tr.srv.URL, Root: []byte("not json")}, ErrVerification, []string{"loading trusted root"}},
		{"root of another repository", InitOptions{Mirror: tr.srv.URL, Root: other.root(t)}, ErrVerification, []string{"Verifying timestamp failed, not enough signatures, got 0, want 1"}},
		{"mirror down", InitOptions{Mirror: "http://127.0.0.1:1", Root: root}, ErrFetch, []string{"GET http://127.0.0.1:1/2.root.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.CacheDir = t.TempDir()
			_, _, err := Initialize(ctx, tc.opts)
			wantErr(t, err, tc.want...)
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
		})
	}
}

func TestInitializeRootChecksum(t *testing.T) {
	tr := newTestRepo(t, RepoOptions{})
	root := tr.root(t)
	sum := fmt.Sprintf("sha256:%x", sha256Sum(root))
	if _, _, err := Initialize(context.Background(), InitOptions{Mirror: tr.srv.URL, Root: root, RootChecksum: strings.ToUpper(sum[7:]), CacheDir: t.TempDir()}); err != nil {
		t.Fatalf("Initialize with the right checksum: %v", err)
	}
	if _, _, err := Initialize(context.Background(), InitOptions{Mirror: tr.srv.URL, Root: root, RootChecksum: sum, CacheDir: t.TempDir()}); err != nil {
		t.Fatalf("Initialize with a sha256: checksum: %v", err)
	}
}

func TestRollbackRefused(t *testing.T) {
	tests := []struct {
		name string
		// attack changes the mirror after the client cached version 3 of targets.
		attack func(t *testing.T, tr *testRepo, old map[string][]byte)
		want   []string
	}{
		{"older timestamp", func(t *testing.T, tr *testRepo, old map[string][]byte) {
			tr.replace(t, "timestamp.json", old["timestamp.json"])
		}, []string{"new timestamp version 2 must be >= 4"}},
		{"older snapshot under the current name", func(t *testing.T, tr *testRepo, old map[string][]byte) {
			tr.replace(t, "4.snapshot.json", old["2.snapshot.json"])
		}, []string{"hash verification failed"}},
		{"older targets under the current name", func(t *testing.T, tr *testRepo, old map[string][]byte) {
			tr.replace(t, "4.targets.json", old["2.targets.json"])
		}, []string{"expected targets version 4, got 2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTestRepo(t, RepoOptions{})
			old := map[string][]byte{}
			for _, n := range []string{"timestamp.json", "2.snapshot.json", "2.targets.json"} {
				old[n] = tr.published(t, n)
			}
			tr.addTarget(t, "v3")
			tr.addTarget(t, "v4")
			cache := initClient(t, tr)
			tc.attack(t, tr, old)
			// Make the client fetch the new metadata: a newer timestamp is not needed for the
			// timestamp case; for the others, a new timestamp names the attacked versions.
			_, _, err := loadTargets(context.Background(), LoadOptions{CacheDir: cache, Mirror: tr.srv.URL})
			if tc.name == "older timestamp" {
				wantErr(t, err, tc.want...)
				if !errors.Is(err, ErrVerification) {
					t.Fatalf("error %v is not ErrVerification", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load with cached metadata: %v", err)
			}
			// A fresh client fetches the attacked files.
			_, _, err = Initialize(context.Background(), InitOptions{Mirror: tr.srv.URL, Root: tr.published(t, "1.root.json"), CacheDir: t.TempDir()})
			wantErr(t, err, tc.want...)
			if !errors.Is(err, ErrVerification) {
				t.Fatalf("error %v is not ErrVerification", err)
			}
		})
	}
}

func TestFreezeRefused(t *testing.T) {
	tr := newTestRepo(t, RepoOptions{}) // timestamp valid 7 days, the rest longer
	cache := initClient(t, tr)
	// Eight days later the mirror still serves the same timestamp.
	_, _, err := loadTargets(context.Background(), LoadOptions{CacheDir: cache, Now: at(8 * 24 * time.Hour)})
	wantErr(t, err, "timestamp.json is expired")
	if !errors.Is(err, ErrVerification) {
		t.Fatalf("error %v is not ErrVerification", err)
	}
	// A fresh client is refused too.
	_, _, err = Initialize(context.Background(), InitOptions{Mirror: tr.srv.URL, Root: tr.root(t), CacheDir: t.TempDir(), Now: at(8 * 24 * time.Hour)})
	wantErr(t, err, "timestamp.json is expired")
	// Once the operator refreshes the timestamp, the client moves on.
	if err := RefreshTimestamp(tr.dir, 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	tr.publish(t)
	if _, _, err := loadTargets(context.Background(), LoadOptions{CacheDir: cache, Now: at(8 * 24 * time.Hour)}); err != nil {
		t.Fatalf("Load after RefreshTimestamp: %v", err)
	}
	// The snapshot (valid 30 days) was re-signed so as not to expire before the timestamp.
	if _, _, err := loadTargets(context.Background(), LoadOptions{CacheDir: cache, Now: at(29 * 24 * time.Hour)}); err != nil {
		t.Fatalf("Load 29 days later: %v", err)
	}
}

func TestMixAndMatchRefused(t *testing.T) {
	tests := []struct {
		name   string
		attack func(t *testing.T, tr, other *testRepo)
		want   []string
	}{
		{"snapshot of another repository", func(t *testing.T, tr, other *testRepo) {
			tr.replace(t, "3.snapshot.json", other.published(t, "3.snapshot.json"))
		}, []string{"hash verification failed"}},
		{"targets of another repository", func(t *testing.T, tr, other *testRepo) {
			tr.replace(t, "3.targets.json", other.published(t, "3.targets.json"))
		}, []string{"Verifying targets failed, not enough signatures, got 0, want 1"}},
		{"timestamp signed by another repository's key", func(t *testing.T, tr, other *testRepo) {
			other.addTarget(t, "x")
			other.addTarget(t, "y")
			tr.replace(t, "timestamp.json", other.published(t, "timestamp.json"))
		}, []string{"Verifying timestamp failed, not enough signatures, got 0, want 1"}},
		{"snapshot of another version", func(t *testing.T, tr, other *testRepo) {
			tr.replace(t, "3.snapshot.json", tr.published(t, "2.snapshot.json"))
		}, []string{"hash verification failed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTestRepo(t, RepoOptions{})
			other := newTestRepo(t, RepoOptions{})
			cache := initClient(t, tr)
			tr.addTarget(t, "v3")
			other.addTarget(t, "v3")
			tc.attack(t, tr, other)
			_, _, err := loadTargets(context.Background(), LoadOptions{CacheDir: cache})
			wantErr(t, err, tc.want...)
			if !errors.Is(err, ErrVerification) {
				t.Fatalf("error %v is not ErrVerification", err)
			}
		})
	}
}

func TestThresholdNotMet(t *testing.T) {
	ctx := context.Background()
	tr := newTestRepo(t, RepoOptions{Thresholds: map[string]int{RoleRoot: 2}})
	cache := initClient(t, tr)
	// Sign root version 2 with one of the two root keys only.
	keys := tr.roleKeyFiles(t, RoleRoot)
	away := filepath.Join(t.TempDir(), "away.pem")
	if err := os.Rename(keys[0], away); err != nil {
		t.Fatal(err)
	}
	if err := Sign(tr.dir, RoleRoot, SignOptions{Bump: true}); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	err := Publish(tr.dir)
	wantErr(t, err, "publish refused: root version 2", "not enough signatures, got 1, want 2", "tuf sign")
	if !errors.Is(err, ErrThreshold) {
		t.Fatalf("error %v is not ErrThreshold", err)
	}
	// A mirror that serves it anyway is refused by the client.
	staged, err := os.ReadFile(filepath.Join(tr.dir, stagedRoots, "2.root.json"))
	if err != nil {
		t.Fatal(err)
	}
	tr.replace(t, "2.root.json", staged)
	_, _, err = loadTargets(ctx, LoadOptions{CacheDir: cache})
	wantErr(t, err, "Verifying root failed, not enough signatures, got 1, want 2")
	if !errors.Is(err, ErrVerification) {
		t.Fatalf("error %v is not ErrVerification", err)
	}
	// As an initial root it is refused too.
	_, _, err = Initialize(ctx, InitOptions{Mirror: tr.srv.URL, Root: staged, CacheDir: t.TempDir()})
	wantErr(t, err, "not enough signatures, got 1, want 2")
	// The second key holder signs; now it publishes and the client follows.
	second, err := ReadKeyFile(away)
	if err != nil {
		t.Fatal(err)
	}
	if err := Sign(tr.dir, RoleRoot, SignOptions{Signers: []crypto.Signer{second}}); err != nil {
		t.Fatalf("Sign with the second key: %v", err)
	}
	tr.publish(t)
	if _, _, err := loadTargets(ctx, LoadOptions{CacheDir: cache}); err != nil {
		t.Fatalf("Load after the second signature: %v", err)
	}
}

// roleKeyFiles lists the local key files of a role.
func (tr *testRepo) roleKeyFiles(t *testing.T, role string) []string {
	t.Helper()
	r, err := openRepo(tr.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, id := range r.root.Signed.Roles[role].KeyIDs {
		files = append(files, filepath.Join(tr.dir, keysDir, id+".pem"))
	}
	return files
}

func TestTargetHashMismatch(t *testing.T) {
	tests := []struct {
		name    string
		content func(orig []byte) []byte
		want    string
	}{
		{"same length", func(orig []byte) []byte {
			c := bytes.Clone(orig)
			c[len(c)-2] ^= 1
			return c
		}, "hash verification failed"},
		{"longer", func(orig []byte) []byte { return append(bytes.Clone(orig), ' ') }, "more than the"},
		{"shorter", func(orig []byte) []byte { return orig[:len(orig)-1] }, "hash verification failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTestRepo(t, RepoOptions{})
			name := tr.targetFile(t, TrustedRootTarget)
			tr.replace(t, name, tc.content(tr.published(t, name)))
			_, _, err := Initialize(context.Background(), InitOptions{Mirror: tr.srv.URL, Root: tr.root(t), CacheDir: t.TempDir()})
			wantErr(t, err, "target trusted_root.json", tc.want)
			if !errors.Is(err, ErrVerification) {
				t.Fatalf("error %v is not ErrVerification", err)
			}
		})
	}
}

// targetFile returns the published path of a target.
func (tr *testRepo) targetFile(t *testing.T, name string) string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(tr.dir, publishDir, "targets"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "."+name) {
			return "targets/" + e.Name()
		}
	}
	t.Fatalf("no published target %s", name)
	return ""
}

func TestOffline(t *testing.T) {
	ctx := context.Background()
	tr := newTestRepo(t, RepoOptions{})
	cache := initClient(t, tr)
	tsExpiry := func() string {
		ts, err := (&testRepo{dir: tr.dir}).timestampExpiry(t)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}()
	tests := []struct {
		name string
		opts LoadOptions
		is   error
		want []string
	}{
		{"no cache at all", LoadOptions{CacheDir: t.TempDir()}, ErrNoCache, []string{"no TUF cache in", "run cosign-like initialize"}},
		{"no cache for this mirror", LoadOptions{CacheDir: cache, Mirror: "http://127.0.0.1:1/other"}, ErrNoCache, []string{"no TUF cache for http://127.0.0.1:1/other", "run cosign-like initialize"}},
		{"expired timestamp", LoadOptions{CacheDir: cache, Now: at(8 * 24 * time.Hour)}, ErrCacheExpired, []string{"TUF cache expired at " + tsExpiry + " (timestamp.json of " + tr.srv.URL + "): run cosign-like initialize"}},
		{"expired root", LoadOptions{CacheDir: cache, Now: at(400 * 24 * time.Hour)}, ErrCacheExpired, []string{"TUF cache expired at " + tsExpiry + " (timestamp.json of", "run cosign-like initialize"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tr.requests.Load()
			tc.opts.Offline = true
			_, _, err := loadTargets(ctx, tc.opts)
			wantErr(t, err, tc.want...)
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
			if n := tr.requests.Load() - before; n != 0 {
				t.Fatalf("offline Load made %d requests", n)
			}
		})
	}
	// A cache whose target file went missing is refused offline, never fetched.
	if err := os.Remove(filepath.Join(mirrorDir(cache, tr.srv.URL), "targets", TrustedRootTarget)); err != nil {
		t.Fatal(err)
	}
	_, _, err := loadTargets(ctx, LoadOptions{CacheDir: cache, Offline: true})
	wantErr(t, err, "target trusted_root.json of", "is not cached")
	if !errors.Is(err, ErrNoCache) {
		t.Fatalf("error %v is not ErrNoCache", err)
	}
}

// timestampExpiry returns the published timestamp's expiry as RFC 3339.
func (tr *testRepo) timestampExpiry(t *testing.T) (string, error) {
	t.Helper()
	r, err := openRepo(tr.dir, nil)
	if err != nil {
		return "", err
	}
	return r.timestamp.Signed.Expires.UTC().Format(time.RFC3339), nil
}

func TestMirrorDownFallsBackToCache(t *testing.T) {
	ctx := context.Background()
	tr := newTestRepo(t, RepoOptions{})
	cache := initClient(t, tr)
	tr.srv.Close()
	var told error
	got, _, err := loadTargets(ctx, LoadOptions{CacheDir: cache, OnCacheFallback: func(err error) { told = err }})
	if err != nil || !bytes.Contains(got, []byte("trustedroot")) {
		t.Fatalf("Load with the mirror down: %q, %v", got, err)
	}
	if !errors.Is(told, ErrFetch) {
		t.Fatalf("OnCacheFallback told %v, want an ErrFetch", told)
	}
	// With the cache expired as well, the error says both.
	_, _, err = loadTargets(ctx, LoadOptions{CacheDir: cache, Now: at(8 * 24 * time.Hour)})
	wantErr(t, err, "fetching from TUF mirror failed", "the cache cannot stand in", "TUF cache expired at")
}

func TestOversizedMetadataRefused(t *testing.T) {
	tr := newTestRepo(t, RepoOptions{})
	cache := initClient(t, tr)
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/timestamp.json" {
			w.Write(bytes.Repeat([]byte(" "), 1<<20)) // no Content-Length: chunked
			return
		}
		NewFileServer(tr.dir).ServeHTTP(w, r)
	}))
	defer big.Close()
	_, _, err := loadTargets(context.Background(), LoadOptions{CacheDir: cache, Mirror: tr.srv.URL, HTTPClient: &http.Client{Transport: redirectTo(big.URL)}})
	wantErr(t, err, "timestamp.json is more than the 16384 bytes allowed")
}

// redirectTo sends every request to another server, as a hostile network would.
type redirectTo string

func (r redirectTo) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Host = strings.TrimPrefix(string(r), "http://")
	return http.DefaultTransport.RoundTrip(req)
}

func TestRootRotation(t *testing.T) {
	ctx := context.Background()
	for _, keyType := range []string{KeyEd25519, KeyECDSAP256} {
		t.Run(keyType, func(t *testing.T) {
			tr := newTestRepo(t, RepoOptions{KeyType: keyType})
			cache := initClient(t, tr)
			oldRootKeys := tr.roleKeyFiles(t, RoleRoot)
			if err := Rotate(tr.dir, RoleRoot, RotateOptions{}); err != nil {
				t.Fatalf("Rotate root: %v", err)
			}
			if err := Rotate(tr.dir, RoleTargets, RotateOptions{}); err != nil {
				t.Fatalf("Rotate targets: %v", err)
			}
			tr.publish(t)
			if _, err := os.Stat(oldRootKeys[0]); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("old root key still in keys/: %v", err)
			}
			if _, _, err := loadTargets(ctx, LoadOptions{CacheDir: cache}); err != nil {
				t.Fatalf("Load after rotations: %v", err)
			}
			cached, err := os.ReadFile(filepath.Join(mirrorDir(cache, tr.srv.URL), "metadata", "root.json"))
			if err != nil {
				t.Fatal(err)
			}
			if v := version(t, cached); v != 3 {
				t.Fatalf("cached root version %d, want 3", v)
			}
			// A client that starts from root version 1 follows both rotations.
			if _, _, err := Initialize(ctx, InitOptions{Mirror: tr.srv.URL, Root: tr.published(t, "1.root.json"), CacheDir: t.TempDir()}); err != nil {
				t.Fatalf("Initialize from root 1: %v", err)
			}
		})
	}
}

func TestRootRotationWithoutOldKeysRefused(t *testing.T) {
	tr := newTestRepo(t, RepoOptions{})
	cache := initClient(t, tr)
	// The old root key is lost: the new root carries only the new key's signature.
	for _, f := range tr.roleKeyFiles(t, RoleRoot) {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := Rotate(tr.dir, RoleRoot, RotateOptions{}); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	err := Publish(tr.dir)
	wantErr(t, err, "publish refused: root version 2", "Verifying root failed, not enough signatures, got 0, want 1")
	staged, err := os.ReadFile(filepath.Join(tr.dir, stagedRoots, "2.root.json"))
	if err != nil {
		t.Fatal(err)
	}
	tr.replace(t, "2.root.json", staged)
	_, _, err = loadTargets(context.Background(), LoadOptions{CacheDir: cache})
	wantErr(t, err, "Verifying root failed, not enough signatures, got 0, want 1")
	if !errors.Is(err, ErrVerification) {
		t.Fatalf("error %v is not ErrVerification", err)
	}
}

func TestCancelledContextDoesNotFallBack(t *testing.T) {
	tr := newTestRepo(t, RepoOptions{})
	cache := initClient(t, tr)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	_, _, err := loadTargets(ctx, LoadOptions{CacheDir: cache, OnCacheFallback: func(error) { called = true }})
	wantErr(t, err, "context canceled")
	if called || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Load fell back to the cache (called=%v) or lost the cause: %v", called, err)
	}
}

func TestFetchRoot(t *testing.T) {
	tr := newTestRepo(t, RepoOptions{})
	root := tr.root(t)
	sum := fmt.Sprintf("%x", sha256Sum(root))
	got, err := FetchRoot(context.Background(), tr.srv.URL+"/1.root.json", sum, nil)
	if err != nil || !bytes.Equal(got, root) {
		t.Fatalf("FetchRoot: %v", err)
	}
	tests := []struct {
		url, sum string
		is       error
		want     string
	}{
		{tr.srv.URL + "/1.root.json", "", ErrBadOption, "needs its checksum"},
		{tr.srv.URL + "/1.root.json", strings.Repeat("0", 64), ErrRootChecksum, "root checksum mismatch"},
		{"file:///etc/passwd", sum, ErrBadOption, "want an http or https URL"},
		{tr.srv.URL + "/9.root.json", sum, ErrFetch, "404"},
	}
	for _, tc := range tests {
		_, err := FetchRoot(context.Background(), tc.url, tc.sum, nil)
		wantErr(t, err, tc.want)
		if !errors.Is(err, tc.is) {
			t.Fatalf("error %v is not %v", err, tc.is)
		}
	}
}

func TestFreezeOfEachRoleRefused(t *testing.T) {
	tests := []struct {
		role string
		want string
	}{
		{RoleSnapshot, "snapshot.json is expired"},
		{RoleTargets, "new targets is expired"},
	}
	for _, tc := range tests {
		t.Run(tc.role, func(t *testing.T) {
			tr := newTestRepo(t, RepoOptions{})
			cache := initClient(t, tr)
			// The operator signs tc.role valid for one hour only, everything else for 30 days.
			r, err := openRepo(tr.dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, role := range Roles() {
				r.expiry[role] = 30 * 24 * time.Hour
			}
			r.expiry[tc.role] = time.Hour
			if err := r.commitTargets(); err != nil {
				t.Fatal(err)
			}
			if err := r.save(); err != nil {
				t.Fatal(err)
			}
			tr.publish(t)
			if _, _, err := loadTargets(context.Background(), LoadOptions{CacheDir: cache}); err != nil {
				t.Fatalf("Load now: %v", err)
			}
			// Two hours later the mirror still serves it.
			_, _, err = loadTargets(context.Background(), LoadOptions{CacheDir: cache, Now: at(2 * time.Hour)})
			wantErr(t, err, tc.want)
			if !errors.Is(err, ErrVerification) {
				t.Fatalf("error %v is not ErrVerification", err)
			}
			_, _, err = loadTargets(context.Background(), LoadOptions{CacheDir: cache, Now: at(2 * time.Hour), Offline: true})
			wantErr(t, err, "TUF cache expired at", "("+tc.role+".json of")
		})
	}
}

func TestRotatedRootWithoutNewKeySignatureRefused(t *testing.T) {
	tr := newTestRepo(t, RepoOptions{})
	cache := initClient(t, tr)
	oldKeys := tr.roleKeyIDs(t, RoleRoot)
	if err := Rotate(tr.dir, RoleRoot, RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	staged, err := metadata.Root().FromFile(filepath.Join(tr.dir, stagedRoots, "2.root.json"))
	if err != nil {
		t.Fatal(err)
	}
	var kept []metadata.Signature
	for _, s := range staged.Signatures {
		if slices.Contains(oldKeys, s.KeyID) {
			kept = append(kept, s)
		}
	}
	staged.Signatures = kept
	data, err := staged.ToBytes(true)
	if err != nil {
		t.Fatal(err)
	}
	tr.replace(t, "2.root.json", data)
	_, _, err = loadTargets(context.Background(), LoadOptions{CacheDir: cache})
	wantErr(t, err, "Verifying root failed, not enough signatures, got 0, want 1")
}

// roleKeyIDs lists the key IDs of a role in the staged root.
func (tr *testRepo) roleKeyIDs(t *testing.T, role string) []string {
	t.Helper()
	r, err := openRepo(tr.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(r.root.Signed.Roles[role].KeyIDs)
}
