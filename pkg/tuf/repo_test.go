package tuf

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestInitRepositoryOptions(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts RepoOptions
		is   error
		want string
	}{
		{"unknown role", RepoOptions{Thresholds: map[string]int{"mirror": 1}}, ErrBadOption, `unknown role "mirror"`},
		{"threshold 0", RepoOptions{Thresholds: map[string]int{RoleRoot: 0}}, ErrBadOption, "threshold of root is 0, want 1 to 16"},
		{"threshold 17", RepoOptions{Thresholds: map[string]int{RoleTargets: 17}}, ErrBadOption, "threshold of targets is 17"},
		{"fewer keys than threshold", RepoOptions{Thresholds: map[string]int{RoleRoot: 3}, KeyCounts: map[string]int{RoleRoot: 2}}, ErrBadOption, "root has 2 keys, want 3 (its threshold)"},
		{"more signers than keys", RepoOptions{KeyCounts: map[string]int{RoleRoot: 1}, Signers: map[string][]crypto.Signer{RoleRoot: {p384, rsaKey}}}, ErrBadOption, "given 2 signers but only 1 keys"},
		{"key type", RepoOptions{KeyType: "rsa"}, ErrUnsupportedKey, `key type "rsa"`},
		{"P-384 signer", RepoOptions{Signers: map[string][]crypto.Signer{RoleRoot: {p384}}}, ErrUnsupportedKey, "ECDSA curve P-384 (only P-256)"},
		{"RSA signer", RepoOptions{Signers: map[string][]crypto.Signer{RoleRoot: {rsaKey}}}, ErrUnsupportedKey, "*rsa.PublicKey (Ed25519 or ECDSA P-256 only)"},
		{"zero expiry", RepoOptions{Expiry: map[string]time.Duration{RoleTimestamp: 0}}, ErrBadOption, "expiry of timestamp is 0s"},
		{"expiry over 10 years", RepoOptions{Expiry: map[string]time.Duration{RoleRoot: 11 * 365 * 24 * time.Hour}}, ErrBadOption, "at most 10 years"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "repo")
			err := InitRepository(dir, tc.opts)
			wantErr(t, err, tc.want)
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
			if _, err := os.Stat(filepath.Join(dir, configFile)); err == nil {
				t.Fatal("a failed InitRepository left a repository behind")
			}
		})
	}
}

func TestInitRepositoryTwice(t *testing.T) {
	dir := t.TempDir()
	if err := InitRepository(dir, RepoOptions{}); err != nil {
		t.Fatal(err)
	}
	err := InitRepository(dir, RepoOptions{})
	wantErr(t, err, "TUF repository already exists in "+dir)
	if !errors.Is(err, ErrRepositoryExists) {
		t.Fatalf("error %v is not ErrRepositoryExists", err)
	}
}

func TestNotARepository(t *testing.T) {
	dir := t.TempDir()
	for name, err := range map[string]error{
		"AddTarget":        AddTarget(dir, "a", []byte("x")),
		"RemoveTarget":     RemoveTarget(dir, "a"),
		"Sign":             Sign(dir, RoleTargets, SignOptions{}),
		"Rotate":           Rotate(dir, RoleTargets, RotateOptions{}),
		"RefreshTimestamp": RefreshTimestamp(dir, 0),
		"Publish":          Publish(dir),
	} {
		wantErr(t, err, "not a TUF repository", "run tuf init")
		if !errors.Is(err, ErrNoRepository) {
			t.Fatalf("%s: error %v is not ErrNoRepository", name, err)
		}
	}
}

func TestPublishedLayout(t *testing.T) {
	tr := newTestRepo(t, RepoOptions{})
	for _, name := range []string{"1.root.json", "root.json", "timestamp.json", "2.snapshot.json", "2.targets.json", tr.targetFile(t, TrustedRootTarget), tr.targetFile(t, SigningConfigTarget)} {
		if _, err := os.Stat(filepath.Join(tr.dir, publishDir, name)); err != nil {
			t.Errorf("published repository lacks %s: %v", name, err)
		}
	}
	if v := version(t, tr.published(t, "timestamp.json")); v != 2 {
		t.Errorf("timestamp version %d, want 2", v)
	}
	err := filepath.WalkDir(filepath.Join(tr.dir, publishDir), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".pem") || strings.Contains(path, "staged") {
			t.Errorf("published repository holds %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := filepath.Glob(filepath.Join(tr.dir, keysDir, "*.pem"))
	if err != nil || len(keys) != 4 {
		t.Fatalf("keys: %v, %v", keys, err)
	}
	for _, k := range keys {
		st, err := os.Stat(k)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("key file %s: mode %v, %v", k, st.Mode(), err)
		}
	}
	// Adding an unchanged target signs nothing new.
	data, err := os.ReadFile(filepath.Join(tr.dir, stagedTargets, TrustedRootTarget))
	if err != nil {
		t.Fatal(err)
	}
	if err := AddTarget(tr.dir, TrustedRootTarget, data); err != nil {
		t.Fatal(err)
	}
	tr.publish(t)
	if v := version(t, tr.published(t, "timestamp.json")); v != 2 {
		t.Errorf("timestamp version %d after an unchanged target, want 2", v)
	}
}

func TestAddTargetErrors(t *testing.T) {
	dir := t.TempDir()
	if err := InitRepository(dir, RepoOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, target string
		size         int
		is           error
		want         string
	}{
		{"empty name", "", 1, ErrBadTargetName, "must have 1 to 255 characters"},
		{"long name", strings.Repeat("a", 256), 1, ErrBadTargetName, "must have 1 to 255 characters"},
		{"hidden", ".config", 1, ErrBadTargetName, "starts with a dot"},
		{"dot dot", "..", 1, ErrBadTargetName, "starts with a dot"},
		{"path", "a/b.json", 1, ErrBadTargetName, "may hold only letters"},
		{"traversal", "../keys", 1, ErrBadTargetName, "starts with a dot"},
		{"space", "a b", 1, ErrBadTargetName, "may hold only letters"},
		{"too big", "big.bin", MaxTargetSize + 1, ErrBadOption, "more than the 33554432 allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := AddTarget(dir, tc.target, make([]byte, tc.size))
			wantErr(t, err, tc.want)
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
		})
	}
	err := RemoveTarget(dir, "nope.json")
	wantErr(t, err, `TUF target not found: "nope.json" is not in the repository`)
}

func TestRemoveTarget(t *testing.T) {
	tr := newTestRepo(t, RepoOptions{})
	cache := initClient(t, tr)
	if err := RemoveTarget(tr.dir, SigningConfigTarget); err != nil {
		t.Fatal(err)
	}
	tr.publish(t)
	trusted, signing, err := loadTargets(context.Background(), LoadOptions{CacheDir: cache})
	if err != nil || trusted == nil || signing != nil {
		t.Fatalf("Load after removing the signing config: %q, %q, %v", trusted, signing, err)
	}
	if err := RemoveTarget(tr.dir, TrustedRootTarget); err != nil {
		t.Fatal(err)
	}
	tr.publish(t)
	_, _, err = loadTargets(context.Background(), LoadOptions{CacheDir: cache})
	wantErr(t, err, "TUF target not found: trusted_root.json is not listed by")
}

func TestSignErrors(t *testing.T) {
	tr := newTestRepo(t, RepoOptions{})
	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	err = Sign(tr.dir, RoleTargets, SignOptions{Signers: []crypto.Signer{stranger}})
	wantErr(t, err, "key is not a key of this role: key ", "[targets]")
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("error %v is not ErrUnknownKey", err)
	}
	wantErr(t, Sign(tr.dir, "mirrors", SignOptions{}), `unknown role "mirrors"`)
	wantErr(t, Rotate(tr.dir, "mirrors", RotateOptions{}), `unknown role "mirrors"`)
	wantErr(t, Rotate(tr.dir, RoleTargets, RotateOptions{Threshold: 2}), "threshold 2 for targets with 1 new keys")
	wantErr(t, RefreshTimestamp(tr.dir, -time.Hour), "expiry of timestamp is -1h0m0s")
	wantErr(t, AddTarget(tr.dir, "x", []byte("x"), stranger), "key is not a key of this role")
	err = Rotate(tr.dir, RoleTargets, RotateOptions{Signers: []crypto.Signer{stranger}})
	wantErr(t, err, "is neither a root key nor a key of targets")
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("error %v is not ErrUnknownKey", err)
	}
	err = Rotate(tr.dir, RoleTargets, RotateOptions{NewSigners: []crypto.Signer{stranger, stranger}})
	wantErr(t, err, "given twice")
	keys, err := filepath.Glob(filepath.Join(tr.dir, keysDir, "*.pem"))
	if err != nil || len(keys) != 4 {
		t.Fatalf("failed rotations left %d key files, want 4: %v", len(keys), err)
	}
}

// TestExternalSignerThreshold keeps one of two targets keys outside the repository, as a
// PKCS#11 key would be: publishing waits for its signature.
func TestExternalSignerThreshold(t *testing.T) {
	external, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "repo")
	opts := RepoOptions{
		Thresholds: map[string]int{RoleTargets: 2},
		Signers:    map[string][]crypto.Signer{RoleTargets: {external}},
	}
	if err := InitRepository(dir, opts); err != nil {
		t.Fatal(err)
	}
	if err := Publish(dir); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if err := AddTarget(dir, TrustedRootTarget, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	err = Publish(dir)
	wantErr(t, err, "publish refused: targets", "not enough signatures, got 1, want 2")
	if !errors.Is(err, ErrThreshold) {
		t.Fatalf("error %v is not ErrThreshold", err)
	}
	if err := Sign(dir, RoleTargets, SignOptions{Signers: []crypto.Signer{external}}); err != nil {
		t.Fatal(err)
	}
	if err := Publish(dir); err != nil {
		t.Fatalf("Publish after the external signature: %v", err)
	}
	keys, _ := filepath.Glob(filepath.Join(dir, keysDir, "*.pem"))
	if len(keys) != 4 {
		t.Fatalf("%d key files, want 4 (the external key is never written)", len(keys))
	}
}

func TestPublishRefusesBadStagedState(t *testing.T) {
	tests := []struct {
		name   string
		mangle func(t *testing.T, dir string)
		want   string
	}{
		{"expired timestamp", func(t *testing.T, dir string) {
			r, err := openRepo(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			r.now = r.now.Add(-8 * 24 * time.Hour)
			if err := r.newTimestamp(); err != nil {
				t.Fatal(err)
			}
			if err := r.save(); err != nil {
				t.Fatal(err)
			}
		}, "timestamp.json is expired"},
		{"changed target file", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, stagedTargets, TrustedRootTarget), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "publish refused: target trusted_root.json"},
		{"missing root version", func(t *testing.T, dir string) {
			if err := Rotate(dir, RoleRoot, RotateOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(dir, stagedRoots, "1.root.json")); err != nil {
				t.Fatal(err)
			}
		}, "root history: version 1 is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTestRepo(t, RepoOptions{})
			before := tr.published(t, "timestamp.json")
			tc.mangle(t, tr.dir)
			wantErr(t, Publish(tr.dir), tc.want)
			if string(tr.published(t, "timestamp.json")) != string(before) {
				t.Fatal("a refused Publish changed the published timestamp")
			}
		})
	}
}

func TestFileServer(t *testing.T) {
	tr := newTestRepo(t, RepoOptions{})
	srv := httptest.NewServer(http.StripPrefix("/tuf", NewFileServer(tr.dir)))
	defer srv.Close()
	tests := []struct {
		method, path string
		status       int
	}{
		{"GET", "/tuf/timestamp.json", 200},
		{"HEAD", "/tuf/1.root.json", 200},
		{"GET", "/tuf/" + tr.targetFile(t, TrustedRootTarget), 200},
		{"GET", "/tuf/2.snapshot.json", 200},
		{"GET", "/tuf/3.snapshot.json", 404},
		{"GET", "/tuf/", 404},
		{"GET", "/tuf/targets/", 404},
		{"GET", "/tuf/../config.json", 404},
		{"GET", "/tuf/%2e%2e/config.json", 404},
		{"GET", "/tuf/keys", 404},
		{"GET", "/tuf/staged/root.json", 404},
		{"GET", "/tuf/0.root.json", 404},
		{"POST", "/tuf/timestamp.json", 405},
		{"DELETE", "/tuf/timestamp.json", 405},
	}
	for _, tc := range tests {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		if tc.status == 200 && strings.HasSuffix(tc.path, ".json") && resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: Content-Type %q", tc.path, resp.Header.Get("Content-Type"))
		}
	}
	// A mirror under a path prefix works for clients.
	if _, _, err := Initialize(context.Background(), InitOptions{Mirror: srv.URL + "/tuf", Root: tr.root(t), CacheDir: t.TempDir()}); err != nil {
		t.Fatalf("Initialize under /tuf: %v", err)
	}
}

func TestNewDevRepository(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "tuf")
	targets := map[string][]byte{TrustedRootTarget: []byte(`{"a":1}`), SigningConfigTarget: []byte(`{"b":1}`)}
	root, err := NewDevRepository(dir, targets, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewFileServer(dir))
	defer srv.Close()
	cache := t.TempDir()
	trusted, signing, err := Initialize(ctx, InitOptions{Mirror: srv.URL, Root: root, CacheDir: cache})
	if err != nil || string(trusted) != `{"a":1}` || string(signing) != `{"b":1}` {
		t.Fatalf("Initialize: %q %q %v", trusted, signing, err)
	}
	// A second run on the same directory keeps the keys and the root, and updates the targets.
	targets[TrustedRootTarget] = []byte(`{"a":2}`)
	root2, err := NewDevRepository(dir, targets, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if string(root2) != string(root) {
		t.Fatal("a second run changed the root")
	}
	trusted, _, err = loadTargets(ctx, LoadOptions{CacheDir: cache})
	if err != nil || string(trusted) != `{"a":2}` {
		t.Fatalf("Load after the second run: %q %v", trusted, err)
	}
	// Expiry applies to every role: two days on, the cache has expired.
	_, _, err = loadTargets(ctx, LoadOptions{CacheDir: cache, Offline: true, Now: at(48 * time.Hour)})
	wantErr(t, err, "TUF cache expired at")
	_, err = NewDevRepository(dir, nil, time.Hour)
	wantErr(t, err, "no targets")
	_, err = NewDevRepository(dir, targets, 0)
	wantErr(t, err, "expiry of every role is 0s")
}

func TestRepositoryLock(t *testing.T) {
	dir := t.TempDir()
	if err := InitRepository(dir, RepoOptions{}); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"AddTarget":        AddTarget(dir, "a", []byte("x")),
		"Sign":             Sign(dir, RoleTargets, SignOptions{}),
		"RefreshTimestamp": RefreshTimestamp(dir, 0),
		"Publish":          Publish(dir),
	} {
		wantErr(t, err, "TUF repository busy: another command is changing "+dir)
		if !errors.Is(err, ErrBusy) {
			t.Fatalf("%s: error %v is not ErrBusy", name, err)
		}
	}
	unlock()
	if err := AddTarget(dir, "a", []byte("x")); err != nil {
		t.Fatalf("AddTarget after unlock: %v", err)
	}
}
