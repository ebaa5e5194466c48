package tuf

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/cosign-like/cosign-like/internal/fsutil"
)

// The four top-level TUF roles.
const (
	RoleRoot      = metadata.ROOT
	RoleTargets   = metadata.TARGETS
	RoleSnapshot  = metadata.SNAPSHOT
	RoleTimestamp = metadata.TIMESTAMP
)

// Roles lists the top-level roles in the order they are signed.
func Roles() []string { return []string{RoleRoot, RoleTargets, RoleSnapshot, RoleTimestamp} }

// Layout of a repository directory. Private keys live under keys/ and the working metadata under
// staged/; only repository/ is published.
const (
	configFile    = "config.json"
	keysDir       = "keys"
	retiredDir    = "keys/retired"
	stagedDir     = "staged"
	stagedRoots   = "staged/roots"
	stagedTargets = "staged/targets"
	publishDir    = "repository"
)

// Bounds on what the publisher accepts.
const (
	// MaxTargetSize is the largest target the publisher adds (and the client downloads).
	MaxTargetSize = 32 << 20
	// maxThreshold bounds thresholds and key counts per role.
	maxThreshold = 16
	// maxMetadataFile bounds a staged metadata file read back from disk.
	maxMetadataFile = 8 << 20
)

// DefaultExpiry returns how long each role's metadata stays valid after it is signed, when
// RepoOptions.Expiry does not say: root 1 year, targets 180 days, snapshot 30 days, timestamp 7
// days. An operator refreshes the timestamp (RefreshTimestamp) well before it expires.
func DefaultExpiry() map[string]time.Duration {
	day := 24 * time.Hour
	return map[string]time.Duration{
		RoleRoot: 365 * day, RoleTargets: 180 * day, RoleSnapshot: 30 * day, RoleTimestamp: 7 * day,
	}
}

// RepoOptions configure InitRepository. The zero value makes one Ed25519 key and threshold 1 per
// role, with DefaultExpiry.
type RepoOptions struct {
	// KeyType is the type of generated keys: KeyEd25519 (default) or KeyECDSAP256.
	KeyType string
	// Thresholds maps a role to its signature threshold (default 1).
	Thresholds map[string]int
	// KeyCounts maps a role to how many keys it has, generated ones plus Signers (default: its
	// threshold, or the number of Signers if more).
	KeyCounts map[string]int
	// Signers maps a role to keys held outside the repository directory (PKCS#11 tokens, KMS,
	// other files). They count towards KeyCounts; their private keys are never written.
	Signers map[string][]crypto.Signer
	// Expiry maps a role to the validity of its metadata (default DefaultExpiry).
	Expiry map[string]time.Duration
}

// repoConfig is what config.json records about a repository.
type repoConfig struct {
	KeyType string            `json:"keyType"`
	Expiry  map[string]string `json:"expiry"`
}

// parseRepoConfig decodes and checks config.json.
func parseRepoConfig(data []byte) (keyType string, expiry map[string]time.Duration, err error) {
	var c repoConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return "", nil, fmt.Errorf("decoding %s: %w", configFile, err)
	}
	if c.KeyType != KeyEd25519 && c.KeyType != KeyECDSAP256 {
		return "", nil, fmt.Errorf("%s: %w: key type %q", configFile, ErrUnsupportedKey, c.KeyType)
	}
	expiry = map[string]time.Duration{}
	for _, role := range Roles() {
		s, ok := c.Expiry[role]
		if !ok {
			return "", nil, fmt.Errorf("%s: no expiry for role %s", configFile, role)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return "", nil, fmt.Errorf("%s: expiry of %s: %w", configFile, role, err)
		}
		if err := checkExpiry(role, d); err != nil {
			return "", nil, fmt.Errorf("%s: %w", configFile, err)
		}
		expiry[role] = d
	}
	if len(c.Expiry) != len(expiry) {
		return "", nil, fmt.Errorf("%s: expiry names a role that is not root, targets, snapshot or timestamp", configFile)
	}
	return c.KeyType, expiry, nil
}

// checkExpiry bounds a validity period to (0, 10 years].
func checkExpiry(role string, d time.Duration) error {
	if d <= 0 || d > 10*365*24*time.Hour {
		return fmt.Errorf("%w: expiry of %s is %s, want more than 0 and at most 10 years", ErrBadOption, role, d)
	}
	return nil
}

// repo is a repository directory loaded into memory.
type repo struct {
	dir       string
	keyType   string
	expiry    map[string]time.Duration
	now       time.Time
	root      *metadata.Metadata[metadata.RootType]
	prevRoot  *metadata.Metadata[metadata.RootType] // the root before root, nil for version 1
	targets   *metadata.Metadata[metadata.TargetsType]
	snapshot  *metadata.Metadata[metadata.SnapshotType]
	timestamp *metadata.Metadata[metadata.TimestampType]
	signers   []*keySigner // keys handed in by the caller or generated in this run
	retire    []string     // key IDs whose local files to move to keys/retired after saving
}

// openRepo loads the repository in dir; extra are keys held outside the keys directory.
func openRepo(dir string, extra []crypto.Signer) (*repo, error) {
	data, err := readBounded(filepath.Join(dir, configFile), maxMetadataFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no %s (run tuf init)", ErrNoRepository, dir, configFile)
	}
	if err != nil {
		return nil, fmt.Errorf("reading repository config: %w", err)
	}
	r := &repo{dir: dir, now: time.Now().UTC()}
	if r.keyType, r.expiry, err = parseRepoConfig(data); err != nil {
		return nil, err
	}
	for _, s := range extra {
		ks, err := newKeySigner(s)
		if err != nil {
			return nil, err
		}
		r.signers = append(r.signers, ks)
	}
	if r.root, err = readStaged(dir, RoleRoot, metadata.Root()); err != nil {
		return nil, err
	}
	if v := r.root.Signed.Version; v > 1 {
		prev := filepath.Join(dir, stagedRoots, strconv.FormatInt(v-1, 10)+".root.json")
		r.prevRoot, err = readMetadataFile(prev, metadata.Root())
		if err != nil {
			return nil, fmt.Errorf("reading the root before version %d: %w", v, err)
		}
	}
	if r.targets, err = readStaged(dir, RoleTargets, metadata.Targets()); err != nil {
		return nil, err
	}
	if r.snapshot, err = readStaged(dir, RoleSnapshot, metadata.Snapshot()); err != nil {
		return nil, err
	}
	if r.timestamp, err = readStaged(dir, RoleTimestamp, metadata.Timestamp()); err != nil {
		return nil, err
	}
	return r, nil
}

// readStaged reads staged/<role>.json.
func readStaged[T metadata.Roles](dir, role string, empty *metadata.Metadata[T]) (*metadata.Metadata[T], error) {
	return readMetadataFile(filepath.Join(dir, stagedDir, role+".json"), empty)
}

// readMetadataFile reads and decodes one metadata file, bounded in size.
func readMetadataFile[T metadata.Roles](path string, empty *metadata.Metadata[T]) (*metadata.Metadata[T], error) {
	data, err := readBounded(path, maxMetadataFile)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	md, err := empty.FromBytes(data)
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	return md, nil
}

// expires returns the expiry time of a role's metadata signed now.
func (r *repo) expires(role string) time.Time {
	return r.now.Add(r.expiry[role]).Truncate(time.Second)
}

// allowedKeys returns the IDs of keys whose signatures count for role. For root, the keys of the
// previous root count as well: a new root must be signed by the old root's threshold too.
func (r *repo) allowedKeys(role string) []string {
	ids := slices.Clone(r.root.Signed.Roles[role].KeyIDs)
	if role == RoleRoot && r.prevRoot != nil && r.prevRoot.Signed.Version == r.root.Signed.Version-1 {
		for _, id := range r.prevRoot.Signed.Roles[RoleRoot].KeyIDs {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// signersFor returns every available signer for the given key IDs: those handed in, then key
// files under keys/ named by key ID.
func (r *repo) signersFor(ids []string) ([]*keySigner, error) {
	var out []*keySigner
	for _, id := range ids {
		if i := slices.IndexFunc(r.signers, func(k *keySigner) bool { return k.id == id }); i >= 0 {
			out = append(out, r.signers[i])
			continue
		}
		path := filepath.Join(r.dir, keysDir, id+".pem")
		s, err := ReadKeyFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ks, err := newKeySigner(s)
		if err != nil {
			return nil, err
		}
		if ks.id != id {
			return nil, fmt.Errorf("key file %s holds key %s, not %s", path, shortID(ks.id), shortID(id))
		}
		out = append(out, ks)
	}
	return out, nil
}

// checkExtraSigners refuses handed-in keys that belong to none of the given roles, so that a
// mistyped key reference is reported rather than ignored.
func (r *repo) checkExtraSigners(roles ...string) error {
	for _, ks := range r.signers {
		ok := false
		for _, role := range roles {
			if slices.Contains(r.allowedKeys(role), ks.id) {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("%w: key %s is not a key of %v", ErrUnknownKey, shortID(ks.id), roles)
		}
	}
	return nil
}

// signRole signs role's metadata with every available key of the role.
func (r *repo) signRole(role string) error {
	signers, err := r.signersFor(r.allowedKeys(role))
	if err != nil {
		return err
	}
	for _, ks := range signers {
		switch role {
		case RoleRoot:
			err = signMetadata(r.root, ks)
		case RoleTargets:
			err = signMetadata(r.targets, ks)
		case RoleSnapshot:
			err = signMetadata(r.snapshot, ks)
		case RoleTimestamp:
			err = signMetadata(r.timestamp, ks)
		}
		if err != nil {
			return fmt.Errorf("signing %s: %w", role, err)
		}
	}
	return nil
}

// bump starts a new version of role's metadata: version + 1, a fresh expiry, no signatures.
func (r *repo) bump(role string) error {
	switch role {
	case RoleRoot:
		next, err := cloneRoot(r.root)
		if err != nil {
			return err
		}
		r.prevRoot, r.root = r.root, next
		r.root.Signed.Version++
		r.root.Signed.Expires = r.expires(role)
		r.root.Signatures = []metadata.Signature{}
	case RoleTargets:
		r.targets.Signed.Version++
		r.targets.Signed.Expires = r.expires(role)
		r.targets.Signatures = []metadata.Signature{}
	case RoleSnapshot:
		r.snapshot.Signed.Version++
		r.snapshot.Signed.Expires = r.expires(role)
		r.snapshot.Signatures = []metadata.Signature{}
	case RoleTimestamp:
		r.timestamp.Signed.Version++
		r.timestamp.Signed.Expires = r.expires(role)
		r.timestamp.Signatures = []metadata.Signature{}
	default:
		return fmt.Errorf("%w: unknown role %q", ErrBadOption, role)
	}
	return nil
}

// cloneRoot deep-copies root metadata through its JSON form, so that the previous root is kept
// intact while the new one changes.
func cloneRoot(md *metadata.Metadata[metadata.RootType]) (*metadata.Metadata[metadata.RootType], error) {
	data, err := md.ToBytes(false)
	if err != nil {
		return nil, fmt.Errorf("encoding root: %w", err)
	}
	c, err := metadata.Root().FromBytes(data)
	if err != nil {
		return nil, fmt.Errorf("decoding root: %w", err)
	}
	return c, nil
}

// newSnapshot records the current targets version in a new, signed snapshot.
func (r *repo) newSnapshot() error {
	if err := r.bump(RoleSnapshot); err != nil {
		return err
	}
	r.snapshot.Signed.Meta = map[string]*metadata.MetaFiles{
		"targets.json": metadata.MetaFile(r.targets.Signed.Version),
	}
	return r.signRole(RoleSnapshot)
}

// newTimestamp records the current snapshot (version, length and SHA-256 of its bytes) in a new,
// signed timestamp.
func (r *repo) newTimestamp() error {
	data, err := r.snapshot.ToBytes(true)
	if err != nil {
		return fmt.Errorf("encoding snapshot: %w", err)
	}
	if err := r.bump(RoleTimestamp); err != nil {
		return err
	}
	mf := metadata.MetaFile(r.snapshot.Signed.Version)
	mf.Length = int64(len(data))
	mf.Hashes = metadata.Hashes{"sha256": sha256Sum(data)}
	r.timestamp.Signed.Meta = map[string]*metadata.MetaFiles{"snapshot.json": mf}
	return r.signRole(RoleTimestamp)
}

// save writes the staged metadata, the root history, and retires replaced local keys.
func (r *repo) save() error {
	rootData, err := r.root.ToBytes(true)
	if err != nil {
		return fmt.Errorf("encoding root: %w", err)
	}
	files := map[string][]byte{
		filepath.Join(stagedRoots, strconv.FormatInt(r.root.Signed.Version, 10)+".root.json"): rootData,
		filepath.Join(stagedDir, "root.json"):                                                 rootData,
	}
	for name, md := range map[string]interface{ ToBytes(bool) ([]byte, error) }{
		"targets.json": r.targets, "snapshot.json": r.snapshot, "timestamp.json": r.timestamp,
	} {
		data, err := md.ToBytes(true)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", name, err)
		}
		files[filepath.Join(stagedDir, name)] = data
	}
	// Write the root history first and the timestamp last, so that an interrupted save leaves
	// the earlier staged state readable.
	order := []string{
		filepath.Join(stagedRoots, strconv.FormatInt(r.root.Signed.Version, 10)+".root.json"),
		filepath.Join(stagedDir, "root.json"),
		filepath.Join(stagedDir, "targets.json"),
		filepath.Join(stagedDir, "snapshot.json"),
		filepath.Join(stagedDir, "timestamp.json"),
	}
	for _, name := range order {
		if err := writeFileAtomic(filepath.Join(r.dir, name), files[name], 0o644); err != nil {
			return err
		}
	}
	for _, id := range r.retire {
		if err := r.retireKey(id); err != nil {
			return err
		}
	}
	return nil
}

// retireKey moves the local file of a key no role uses any more to keys/retired.
func (r *repo) retireKey(id string) error {
	for _, role := range r.root.Signed.Roles {
		if slices.Contains(role.KeyIDs, id) {
			return nil
		}
	}
	from := filepath.Join(r.dir, keysDir, id+".pem")
	if _, err := os.Stat(from); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(r.dir, retiredDir), 0o700); err != nil {
		return fmt.Errorf("retiring key %s: %w", shortID(id), err)
	}
	if err := os.Rename(from, filepath.Join(r.dir, retiredDir, id+".pem")); err != nil {
		return fmt.Errorf("retiring key %s: %w", shortID(id), err)
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file and a rename, creating the
// directory when it is missing.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	return fsutil.WriteFileAtomic(path, data, mode)
}
