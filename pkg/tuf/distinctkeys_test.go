package tuf

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"
)

// serveFixture serves a committed repository of testdata/duplicate-keys over HTTP, answering
// 404 for the paths hide reports. It returns the mirror URL.
func serveFixture(t testing.TB, name string, hide func(path string) bool) string {
	t.Helper()
	files := http.FileServer(http.Dir(filepath.Join(duplicateKeysDir, name)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hide != nil && hide(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// fixtureFile reads one file of a committed fixture repository.
func fixtureFile(t testing.TB, name, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(duplicateKeysDir, name, file))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// duplicateMessage is the refusal of role listing one key under the key IDs the role of the
// given fixture file lists, in order.
func duplicateMessage(t testing.TB, name, file, role string) string {
	t.Helper()
	data := fixtureFile(t, name, file)
	var ids []string
	if md, err := metadata.Root().FromBytes(data); err == nil {
		ids = md.Signed.Roles[role].KeyIDs
	} else if md, err := metadata.Targets().FromBytes(data); err == nil {
		for _, r := range md.Signed.Delegations.Roles {
			if r.Name == role {
				ids = r.KeyIDs
			}
		}
	}
	if len(ids) != 2 {
		t.Fatalf("%s/%s: role %s lists key IDs %q, want two", name, file, role, ids)
	}
	return fmt.Sprintf("role %q lists one key under key IDs %s and %s", role, ids[0], ids[1])
}

// wantVerificationError fails unless err matches ErrVerification and not ErrFetch (so that Load
// never falls back to the cache over it) and holds every fragment.
func wantVerificationError(t testing.TB, err error, fragments ...string) {
	t.Helper()
	wantErr(t, err, fragments...)
	if !errors.Is(err, ErrVerification) || errors.Is(err, ErrFetch) {
		t.Fatalf("error %v: want ErrVerification, not ErrFetch", err)
	}
}

// goTUFAccepts fails unless go-tuf's updater on its own (no check of this package) accepts the
// repository at mirror and downloads target: the fixture is the attack, and nothing else in it
// is wrong.
func goTUFAccepts(t testing.TB, mirror string, root []byte, target string) {
	t.Helper()
	cfg, err := config.New(mirror, root)
	if err != nil {
		t.Fatal(err)
	}
	cfg.LocalMetadataDir = t.TempDir()
	cfg.LocalTargetsDir = t.TempDir()
	up, err := updater.New(cfg)
	if err != nil {
		t.Fatalf("go-tuf refuses the initial root: %v", err)
	}
	if err := up.Refresh(); err != nil {
		t.Fatalf("go-tuf refuses the repository: %v", err)
	}
	info, err := up.GetTargetInfo(target)
	if err != nil {
		t.Fatalf("go-tuf does not find %s: %v", target, err)
	}
	if _, _, err := up.DownloadTarget(info, "", ""); err != nil {
		t.Fatalf("go-tuf refuses %s: %v", target, err)
	}
}

func TestInitializeRefusesDuplicateKeys(t *testing.T) {
	tests := []struct {
		name string // fixture repository
		want func(t *testing.T) []string
	}{
		{"root-lists-key-twice", func(t *testing.T) []string {
			return []string{"loading trusted root", duplicateMessage(t, "root-lists-key-twice", "1.root.json", RoleRoot)}
		}},
		{"rotation-lists-key-twice", func(t *testing.T) []string {
			return []string{"refreshing TUF metadata", "2.root.json: " + duplicateMessage(t, "rotation-lists-key-twice", "2.root.json", RoleRoot)}
		}},
		{"delegation-lists-key-twice", func(t *testing.T) []string {
			return []string{"refreshing TUF metadata", "1.targets.json: " + duplicateMessage(t, "delegation-lists-key-twice", "1.targets.json", "delegated")}
		}},
		{"nested-delegation-lists-key-twice", func(t *testing.T) []string {
			return []string{"looking up delegated target trusted_root.json", "1.delegated.json: " + duplicateMessage(t, "nested-delegation-lists-key-twice", "1.delegated.json", "nested")}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mirror := serveFixture(t, tc.name, nil)
			root := fixtureFile(t, tc.name, "1.root.json")
			goTUFAccepts(t, mirror, root, TrustedRootTarget)
			cache := t.TempDir()
			_, _, err := Initialize(context.Background(), InitOptions{Mirror: mirror, Root: root, CacheDir: cache})
			wantVerificationError(t, err, tc.want(t)...)
			if _, err := os.Stat(filepath.Join(cache, remoteFile)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a refused Initialize recorded the mirror: %v", err)
			}
		})
	}
}

func TestLoadRefusesRotationListingKeyTwice(t *testing.T) {
	const name = "rotation-lists-key-twice"
	var hidden atomic.Bool
	hidden.Store(true)
	mirror := serveFixture(t, name, func(path string) bool { return hidden.Load() && path == "/2.root.json" })
	cache := t.TempDir()
	ctx := context.Background()
	// Before the rotation is published, the repository is fine.
	if _, _, err := Initialize(ctx, InitOptions{Mirror: mirror, Root: fixtureFile(t, name, "1.root.json"), CacheDir: cache}); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	hidden.Store(false)
	opts := LoadOptions{CacheDir: cache, OnCacheFallback: func(err error) { t.Errorf("Load fell back to the cache over %v", err) }}
	_, _, err := loadTargets(ctx, opts)
	wantVerificationError(t, err, "2.root.json: "+duplicateMessage(t, name, "2.root.json", RoleRoot))
	// The refused root was not kept: the cache still trusts version 1 and still works offline.
	if v := version(t, fixtureCacheFile(t, cache, mirror, "root.json")); v != 1 {
		t.Fatalf("cached root is version %d after the refused rotation, want 1", v)
	}
	opts.Offline = true
	if got, _, err := loadTargets(ctx, opts); err != nil || string(got) != fixtureTrustedRoot {
		t.Fatalf("offline Load after the refused rotation: %q, %v", got, err)
	}
}

// fixtureCacheFile reads a file of the metadata cache Initialize made for mirror.
func fixtureCacheFile(t testing.TB, cache, mirror, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(mirrorDir(cache, mirror), "metadata", file))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestKeyInTwoRolesAccepted(t *testing.T) {
	const name = "key-in-two-roles"
	// The fixture is what it claims: the root key is the timestamp key under another key ID,
	// and one key serves two delegated roles under two key IDs.
	root, err := metadata.Root().FromBytes(fixtureFile(t, name, "1.root.json"))
	if err != nil {
		t.Fatal(err)
	}
	rootID, tsID := root.Signed.Roles[RoleRoot].KeyIDs[0], root.Signed.Roles[RoleTimestamp].KeyIDs[0]
	sameKey(t, root.Signed.Keys[rootID], root.Signed.Keys[tsID], rootID, tsID)
	targets, err := metadata.Targets().FromBytes(fixtureFile(t, name, "1.targets.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := targets.Signed.Delegations
	sameKey(t, d.Keys[d.Roles[0].KeyIDs[0]], d.Keys[d.Roles[1].KeyIDs[0]], d.Roles[0].KeyIDs[0], d.Roles[1].KeyIDs[0])

	ctx := context.Background()
	mirror := serveFixture(t, name, nil)
	cache := t.TempDir()
	trusted, signing, err := Initialize(ctx, InitOptions{Mirror: mirror, Root: fixtureFile(t, name, "1.root.json"), CacheDir: cache})
	if err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	if string(trusted) != fixtureTrustedRoot || string(signing) != fixtureSigningConfig {
		t.Fatalf("Initialize returned %q and %q", trusted, signing)
	}
	for _, offline := range []bool{false, true} {
		tr, sc, err := loadTargets(ctx, LoadOptions{CacheDir: cache, Offline: offline})
		if err != nil || string(tr) != fixtureTrustedRoot || string(sc) != fixtureSigningConfig {
			t.Fatalf("Load(offline=%v): %q, %q, %v", offline, tr, sc, err)
		}
	}
}

// sameKey fails unless two differently named keys hold the same public key.
func sameKey(t testing.TB, a, b *metadata.Key, idA, idB string) {
	t.Helper()
	ma, okA := keyMaterial(a)
	mb, okB := keyMaterial(b)
	if idA == idB || !okA || !okB || ma != mb {
		t.Fatalf("keys %s and %s are not one key under two key IDs", idA, idB)
	}
}

func TestCachedMetadataListingKeyTwiceRefused(t *testing.T) {
	// A cache written before the client checked keys holds a targets.json whose delegation
	// lists one key twice: go-tuf would load it from the cache without fetching it.
	const name = "key-in-two-roles"
	ctx := context.Background()
	mirror := serveFixture(t, name, nil)
	cache := t.TempDir()
	if _, _, err := Initialize(ctx, InitOptions{Mirror: mirror, Root: fixtureFile(t, name, "1.root.json"), CacheDir: cache}); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	bad := fixtureFile(t, "delegation-lists-key-twice", "1.targets.json")
	if err := os.WriteFile(filepath.Join(mirrorDir(cache, mirror), "metadata", "targets.json"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	want := duplicateMessage(t, "delegation-lists-key-twice", "1.targets.json", "delegated")
	for _, offline := range []bool{false, true} {
		_, _, err := loadTargets(ctx, LoadOptions{CacheDir: cache, Offline: offline, OnCacheFallback: func(err error) { t.Errorf("Load fell back to the cache over %v", err) }})
		wantVerificationError(t, err, "TUF cache", "targets.json: "+want)
	}
}

func TestCheckDistinctKeys(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := metadata.KeyFromPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	// The same ECDSA key under the older "ecdsa" key type, in PEM with CRLF line ends.
	ecAgain := &metadata.Key{Type: metadata.KeyTypeECDSA_SHA2_P256_COMPAT, Scheme: ecKey.Scheme,
		Value: metadata.KeyVal{PublicKey: strings.ReplaceAll(ecKey.Value.PublicKey, "\n", "\r\n")}}
	ecID, _ := ecKey.ID()
	ecAgainID, _ := ecAgain.ID()
	other := fixtureKey(t, "check/other")
	rootWith := func(keyIDs ...string) []byte {
		md := metadata.Root(fixtureExpiry)
		md.Signed.Keys = map[string]*metadata.Key{ecID: ecKey, ecAgainID: ecAgain, other.id: other.key, "made-up": ecKey}
		md.Signed.Roles[RoleSnapshot].KeyIDs = keyIDs
		data, err := md.ToBytes(false)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	succinct := func(keyIDs ...string) []byte {
		md := metadata.Targets(fixtureExpiry)
		md.Signed.Delegations = &metadata.Delegations{
			Keys:          map[string]*metadata.Key{ecID: ecKey, ecAgainID: ecAgain},
			SuccinctRoles: &metadata.SuccinctRoles{KeyIDs: keyIDs, Threshold: 2, BitLength: 4, NamePrefix: "bin"},
		}
		data, err := md.ToBytes(false)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	fixture := func(name, file string) []byte { return fixtureFile(t, name, file) }
	tests := []struct {
		name string
		data []byte
		want string // "" when accepted
	}{
		{"ecdsa key under two key types", rootWith(ecID, other.id, ecAgainID), fmt.Sprintf("role %q lists one key under key IDs %s and %s", RoleSnapshot, ecID, ecAgainID)},
		{"one key under a made-up key ID", rootWith(ecID, "made-up"), fmt.Sprintf("role %q lists one key under key IDs %s and %q", RoleSnapshot, ecID, "made-up")},
		{"one key ID listed twice", rootWith(ecID, ecID), ""},
		{"distinct keys", rootWith(ecID, other.id), ""},
		{"key ID without a key", rootWith("00", ecID), ""},
		{"succinct roles", succinct(ecID, ecAgainID), fmt.Sprintf("role %q lists one key under key IDs %s and %s", "bin-*", ecID, ecAgainID)},
		{"root of the root fixture", fixture("root-lists-key-twice", "1.root.json"), "lists one key"},
		{"rotated root", fixture("rotation-lists-key-twice", "2.root.json"), "lists one key"},
		{"root before the rotation", fixture("rotation-lists-key-twice", "1.root.json"), ""},
		{"delegating targets", fixture("delegation-lists-key-twice", "1.targets.json"), "lists one key"},
		{"nested delegation", fixture("nested-delegation-lists-key-twice", "1.delegated.json"), "lists one key"},
		{"targets delegating to a good role", fixture("nested-delegation-lists-key-twice", "1.targets.json"), ""},
		{"key in two roles: root", fixture("key-in-two-roles", "1.root.json"), ""},
		{"key in two roles: targets", fixture("key-in-two-roles", "1.targets.json"), ""},
		{"timestamp", fixture("key-in-two-roles", "timestamp.json"), ""},
		{"not JSON", []byte("not json"), ""},
		{"no signed part", []byte(`{"signatures":[]}`), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkDistinctKeys(tc.data)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantVerificationError(t, err, tc.want)
		})
	}
}

func TestKeyIDForMessage(t *testing.T) {
	long := strings.Repeat("ab", 40)
	for id, want := range map[string]string{
		"1a2b":                  "1a2b",
		strings.Repeat("f", 64): strings.Repeat("f", 64),
		"":                      `""`,
		"ID\x1b[2J":             `"ID\x1b[2J"`,
		long:                    `"` + long[:64] + `"…`,
	} {
		if got := keyIDForMessage(id); got != want {
			t.Errorf("keyIDForMessage(%q) = %s, want %s", id, got, want)
		}
	}
}
