package tuf

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

var updateFixtures = flag.Bool("update", false, "rewrite the TUF repositories under testdata/duplicate-keys")

// duplicateKeysDir holds one served TUF repository per directory; TestDuplicateKeyFixtures
// says what each one is and rewrites them with -update.
const duplicateKeysDir = "testdata/duplicate-keys"

// fixtureExpiry is far enough ahead that the committed metadata never expires.
var fixtureExpiry = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)

// Target contents of the fixture repositories.
const (
	fixtureTrustedRoot   = `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","fixture":"duplicate-keys"}`
	fixtureSigningConfig = `{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json","fixture":"duplicate-keys"}`
)

// duplicateKeyFixtures returns the files of each fixture repository by directory name.
func duplicateKeyFixtures(t testing.TB) map[string]map[string][]byte {
	return map[string]map[string][]byte{
		// The initial root's root role lists one key under two key IDs, threshold 2, and
		// carries that key's one signature under both.
		"root-lists-key-twice": rootListsKeyTwice(t),
		// A good initial root, and a 2.root.json signed by the old root key whose own root
		// role lists its new key twice, threshold 2.
		"rotation-lists-key-twice": rotationListsKeyTwice(t),
		// targets.json delegates trusted_root.json to a role that lists one key twice,
		// threshold 2.
		"delegation-lists-key-twice": delegationListsKeyTwice(t),
		// targets.json delegates to a good role, whose own delegation lists one key twice.
		"nested-delegation-lists-key-twice": nestedDelegationListsKeyTwice(t),
		// One key under two key IDs in different roles (root and timestamp; two delegated
		// roles), which TUF allows.
		"key-in-two-roles": keyInTwoRoles(t),
	}
}

// fixtureKey derives an Ed25519 key from a label, so that -update writes the same bytes again
// (Ed25519 signatures are deterministic).
func fixtureKey(t testing.TB, label string) *keySigner {
	t.Helper()
	seed := sha256.Sum256([]byte("cosign-like duplicate-keys fixture " + label))
	ks, err := newKeySigner(ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// respelled returns ks's public key written another way, and the key ID that spelling hashes
// to: the same key material under a second, well-formed key ID.
func respelled(t testing.TB, ks *keySigner, how string) (*metadata.Key, string) {
	t.Helper()
	k := &metadata.Key{Type: ks.key.Type, Scheme: ks.key.Scheme, Value: metadata.KeyVal{PublicKey: ks.key.Value.PublicKey}}
	switch how {
	case "upper-hex":
		k.Value.PublicKey = strings.ToUpper(k.Value.PublicKey)
	case "scheme":
		k.Scheme = "ed25519-sha512"
	case "keyid_hash_algorithms":
		k.UnrecognizedFields = map[string]any{"keyid_hash_algorithms": []any{"sha256", "sha512"}}
	default:
		t.Fatalf("no spelling %q", how)
	}
	id, err := k.ID()
	if err != nil || id == ks.id {
		t.Fatalf("respelling %s gives key ID %s: %v", ks.id, id, err)
	}
	return k, id
}

// twice returns ks's key under its own key ID and under the key ID of another spelling, and
// those two IDs.
func twice(t testing.TB, ks *keySigner, how string) (map[string]*metadata.Key, []string) {
	t.Helper()
	again, againID := respelled(t, ks, how)
	return map[string]*metadata.Key{ks.id: ks.key, againID: again}, []string{ks.id, againID}
}

// signature is one key's signature, listed under the given key IDs (its own when none).
type signature struct {
	ks  *keySigner
	ids []string
}

func signedBy(ks *keySigner, ids ...string) signature { return signature{ks: ks, ids: ids} }

// signFixture signs md with each signature.
func signFixture[T metadata.Roles](t testing.TB, md *metadata.Metadata[T], sigs ...signature) {
	t.Helper()
	for _, s := range sigs {
		if err := signMetadata(md, s.ks); err != nil {
			t.Fatal(err)
		}
		if len(s.ids) == 0 {
			continue
		}
		last := md.Signatures[len(md.Signatures)-1]
		md.Signatures = md.Signatures[:len(md.Signatures)-1]
		for _, id := range s.ids {
			md.Signatures = append(md.Signatures, metadata.Signature{KeyID: id, Signature: last.Signature})
		}
	}
}

// topKeys are the keys of the four top-level roles of a fixture repository.
type topKeys struct{ root, targets, snapshot, timestamp *keySigner }

func newTopKeys(t testing.TB, repo string) topKeys {
	t.Helper()
	return topKeys{
		root:      fixtureKey(t, repo+"/root"),
		targets:   fixtureKey(t, repo+"/targets"),
		snapshot:  fixtureKey(t, repo+"/snapshot"),
		timestamp: fixtureKey(t, repo+"/timestamp"),
	}
}

// rootMetadata returns an unsigned root version 1 in which each top-level role has its own key
// and threshold 1.
func (k topKeys) rootMetadata() *metadata.Metadata[metadata.RootType] {
	md := metadata.Root(fixtureExpiry)
	for role, ks := range map[string]*keySigner{RoleRoot: k.root, RoleTargets: k.targets, RoleSnapshot: k.snapshot, RoleTimestamp: k.timestamp} {
		md.Signed.Keys[ks.id] = ks.key
		md.Signed.Roles[role] = &metadata.Role{KeyIDs: []string{ks.id}, Threshold: 1}
	}
	return md
}

// fixtureRepo collects the files of a repository with consistent snapshots, every metadata
// file at version 1 but the roots.
type fixtureRepo struct {
	t     testing.TB
	keys  topKeys
	files map[string][]byte
	meta  map[string]*metadata.MetaFiles // what the snapshot lists
}

// newFixtureRepo starts the repository of the given name, with its top-level keys.
func newFixtureRepo(t testing.TB, name string) *fixtureRepo {
	return &fixtureRepo{t: t, keys: newTopKeys(t, name), files: map[string][]byte{}, meta: map[string]*metadata.MetaFiles{}}
}

func (r *fixtureRepo) put(name string, data []byte, err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
	r.files[name] = append(data, '\n')
}

// addRoot signs and adds a root version.
func (r *fixtureRepo) addRoot(md *metadata.Metadata[metadata.RootType], sigs ...signature) {
	r.t.Helper()
	signFixture(r.t, md, sigs...)
	data, err := md.ToBytes(true)
	r.put(fmt.Sprintf("%d.root.json", md.Signed.Version), data, err)
}

// target adds a target file and returns its description.
func (r *fixtureRepo) target(name, content string) *metadata.TargetFiles {
	r.t.Helper()
	tf, err := metadata.TargetFile().FromBytes(name, []byte(content), "sha256")
	if err != nil {
		r.t.Fatal(err)
	}
	r.files["targets/"+hex.EncodeToString(sha256Sum([]byte(content)))+"."+name] = []byte(content)
	return tf
}

// addTargets signs and adds the metadata of a targets role (top-level or delegated).
func (r *fixtureRepo) addTargets(role string, md *metadata.Metadata[metadata.TargetsType], sigs ...signature) {
	r.t.Helper()
	signFixture(r.t, md, sigs...)
	data, err := md.ToBytes(true)
	r.put("1."+role+".json", data, err)
	r.meta[role+".json"] = metadata.MetaFile(1)
}

// finish adds the snapshot, signed by the snapshot key, and the timestamp, and returns the files.
func (r *fixtureRepo) finish(timestamp signature) map[string][]byte {
	r.t.Helper()
	sn := metadata.Snapshot(fixtureExpiry)
	sn.Signed.Meta = r.meta
	signFixture(r.t, sn, signedBy(r.keys.snapshot))
	data, err := sn.ToBytes(true)
	r.put("1.snapshot.json", data, err)
	ts := metadata.Timestamp(fixtureExpiry)
	ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(1)
	signFixture(r.t, ts, timestamp)
	data, err = ts.ToBytes(true)
	r.put("timestamp.json", data, err)
	return r.files
}

// delegation returns delegations of trusted_root.json to one role that lists keyIDs (of keys)
// with the given threshold.
func delegation(role string, threshold int, keys map[string]*metadata.Key, keyIDs []string) *metadata.Delegations {
	return &metadata.Delegations{Keys: keys, Roles: []metadata.DelegatedRole{{Name: role, KeyIDs: keyIDs, Threshold: threshold, Paths: []string{TrustedRootTarget}}}}
}

// addTrustedRootTargets adds top-level targets that list the trusted root.
func (r *fixtureRepo) addTrustedRootTargets() {
	tg := metadata.Targets(fixtureExpiry)
	tg.Signed.Targets[TrustedRootTarget] = r.target(TrustedRootTarget, fixtureTrustedRoot)
	r.addTargets(RoleTargets, tg, signedBy(r.keys.targets))
}

func rootListsKeyTwice(t testing.TB) map[string][]byte {
	r := newFixtureRepo(t, "root-lists-key-twice")
	k := r.keys
	root := k.rootMetadata()
	keys, ids := twice(t, k.root, "keyid_hash_algorithms")
	maps.Copy(root.Signed.Keys, keys)
	root.Signed.Roles[RoleRoot] = &metadata.Role{KeyIDs: ids, Threshold: 2}
	r.addRoot(root, signedBy(k.root, ids...))
	r.addTrustedRootTargets()
	return r.finish(signedBy(k.timestamp))
}

func rotationListsKeyTwice(t testing.TB) map[string][]byte {
	r := newFixtureRepo(t, "rotation-lists-key-twice")
	k := r.keys
	r.addRoot(k.rootMetadata(), signedBy(k.root))
	next := fixtureKey(t, "rotation-lists-key-twice/root version 2")
	keys, ids := twice(t, next, "upper-hex")
	root := k.rootMetadata()
	root.Signed.Version = 2
	delete(root.Signed.Keys, k.root.id)
	maps.Copy(root.Signed.Keys, keys)
	root.Signed.Roles[RoleRoot] = &metadata.Role{KeyIDs: ids, Threshold: 2}
	r.addRoot(root, signedBy(k.root), signedBy(next, ids...))
	r.addTrustedRootTargets()
	return r.finish(signedBy(k.timestamp))
}

func delegationListsKeyTwice(t testing.TB) map[string][]byte {
	r := newFixtureRepo(t, "delegation-lists-key-twice")
	r.addRoot(r.keys.rootMetadata(), signedBy(r.keys.root))
	d := fixtureKey(t, "delegation-lists-key-twice/delegated")
	keys, ids := twice(t, d, "scheme")
	tg := metadata.Targets(fixtureExpiry)
	tg.Signed.Delegations = delegation("delegated", 2, keys, ids)
	r.addTargets(RoleTargets, tg, signedBy(r.keys.targets))
	dl := metadata.Targets(fixtureExpiry)
	dl.Signed.Targets[TrustedRootTarget] = r.target(TrustedRootTarget, fixtureTrustedRoot)
	r.addTargets("delegated", dl, signedBy(d, ids...))
	return r.finish(signedBy(r.keys.timestamp))
}

func nestedDelegationListsKeyTwice(t testing.TB) map[string][]byte {
	r := newFixtureRepo(t, "nested-delegation-lists-key-twice")
	r.addRoot(r.keys.rootMetadata(), signedBy(r.keys.root))
	d := fixtureKey(t, "nested-delegation-lists-key-twice/delegated")
	tg := metadata.Targets(fixtureExpiry)
	tg.Signed.Delegations = delegation("delegated", 1, map[string]*metadata.Key{d.id: d.key}, []string{d.id})
	r.addTargets(RoleTargets, tg, signedBy(r.keys.targets))
	n := fixtureKey(t, "nested-delegation-lists-key-twice/nested")
	keys, ids := twice(t, n, "keyid_hash_algorithms")
	dl := metadata.Targets(fixtureExpiry)
	dl.Signed.Delegations = delegation("nested", 2, keys, ids)
	r.addTargets("delegated", dl, signedBy(d))
	nested := metadata.Targets(fixtureExpiry)
	nested.Signed.Targets[TrustedRootTarget] = r.target(TrustedRootTarget, fixtureTrustedRoot)
	r.addTargets("nested", nested, signedBy(n, ids...))
	return r.finish(signedBy(r.keys.timestamp))
}

func keyInTwoRoles(t testing.TB) map[string][]byte {
	r := newFixtureRepo(t, "key-in-two-roles")
	k := r.keys
	root := k.rootMetadata()
	ts, tsID := respelled(t, k.root, "scheme")
	delete(root.Signed.Keys, k.timestamp.id)
	root.Signed.Keys[tsID] = ts
	root.Signed.Roles[RoleTimestamp] = &metadata.Role{KeyIDs: []string{tsID}, Threshold: 1}
	r.addRoot(root, signedBy(k.root))
	d := fixtureKey(t, "key-in-two-roles/delegated")
	keys, ids := twice(t, d, "upper-hex")
	tg := metadata.Targets(fixtureExpiry)
	tg.Signed.Targets[SigningConfigTarget] = r.target(SigningConfigTarget, fixtureSigningConfig)
	tg.Signed.Delegations = &metadata.Delegations{Keys: keys, Roles: []metadata.DelegatedRole{
		{Name: "other", KeyIDs: ids[:1], Threshold: 1, Paths: []string{"other/*"}},
		{Name: "trusted-root", KeyIDs: ids[1:], Threshold: 1, Paths: []string{TrustedRootTarget}},
	}}
	r.addTargets(RoleTargets, tg, signedBy(k.targets))
	r.addTargets("other", metadata.Targets(fixtureExpiry), signedBy(d))
	tr := metadata.Targets(fixtureExpiry)
	tr.Signed.Targets[TrustedRootTarget] = r.target(TrustedRootTarget, fixtureTrustedRoot)
	r.addTargets("trusted-root", tr, signedBy(d, ids[1]))
	return r.finish(signedBy(k.root, tsID))
}

// TestDuplicateKeyFixtures rewrites testdata/duplicate-keys with -update; otherwise it checks
// that the committed repositories are exactly what the generator makes.
func TestDuplicateKeyFixtures(t *testing.T) {
	fixtures := duplicateKeyFixtures(t)
	if *updateFixtures {
		if err := os.RemoveAll(duplicateKeysDir); err != nil {
			t.Fatal(err)
		}
		for name, files := range fixtures {
			for file, data := range files {
				path := filepath.Join(duplicateKeysDir, name, filepath.FromSlash(file))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		return
	}
	entries, err := os.ReadDir(duplicateKeysDir)
	if err != nil {
		t.Fatalf("%v (run go test -run TestDuplicateKeyFixtures -update to create it)", err)
	}
	if len(entries) != len(fixtures) {
		t.Errorf("%d repositories in %s, the generator makes %d (run with -update)", len(entries), duplicateKeysDir, len(fixtures))
	}
	for name, files := range fixtures {
		stored := readFixture(t, name)
		if got, want := slices.Sorted(maps.Keys(stored)), slices.Sorted(maps.Keys(files)); !slices.Equal(got, want) {
			t.Errorf("%s holds %q, the generator makes %q (run with -update)", name, got, want)
			continue
		}
		for file, data := range files {
			if !bytes.Equal(stored[file], data) {
				t.Errorf("%s/%s differs from the generator (run with -update)", name, file)
			}
		}
	}
}

// readFixture reads the files of a committed fixture repository by slash-separated path.
func readFixture(t testing.TB, name string) map[string][]byte {
	t.Helper()
	dir := filepath.Join(duplicateKeysDir, name)
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
