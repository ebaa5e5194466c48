package tuf

import (
	"crypto"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// InitRepository creates a TUF repository in dir (created if missing): keys for the four
// top-level roles (generated into dir/keys, mode 0600, or taken from opts.Signers), version 1 of
// root, targets (no targets yet), snapshot and timestamp, all signed, under dir/staged. Call
// Publish to write the servable files. It refuses a directory that already holds a repository.
func InitRepository(dir string, opts RepoOptions) error {
	unlock, err := lockRepo(dir)
	if err != nil {
		return err
	}
	defer unlock()
	return initRepository(dir, opts)
}

func initRepository(dir string, opts RepoOptions) error {
	if _, err := os.Stat(filepath.Join(dir, configFile)); err == nil {
		return fmt.Errorf("%w in %s", ErrRepositoryExists, dir)
	}
	keyType, expiry, err := checkRepoOptions(opts)
	if err != nil {
		return err
	}
	r := &repo{dir: dir, keyType: keyType, expiry: expiry, now: time.Now().UTC()}
	r.root = metadata.Root(r.expires(RoleRoot))
	r.root.Signed.ConsistentSnapshot = true
	var generated []*keySigner
	for _, role := range Roles() {
		g, err := r.addInitialKeys(role, opts)
		if err != nil {
			return err
		}
		generated = append(generated, g...)
	}
	r.targets = metadata.Targets(r.expires(RoleTargets))
	r.snapshot = metadata.Snapshot(r.expires(RoleSnapshot))
	r.timestamp = metadata.Timestamp(r.expires(RoleTimestamp))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	for _, ks := range generated {
		if err := writeKeyFile(filepath.Join(dir, keysDir), ks); err != nil {
			return err
		}
	}
	for _, role := range []string{RoleRoot, RoleTargets, RoleSnapshot} {
		if err := r.signRole(role); err != nil {
			return err
		}
	}
	// The timestamp of version 1 records the snapshot's hash like every later one.
	r.timestamp.Signed.Version = 0
	if err := r.newTimestamp(); err != nil {
		return err
	}
	if err := r.save(); err != nil {
		return err
	}
	return writeRepoConfig(dir, keyType, expiry)
}

// checkRepoOptions checks the options of a new repository and returns its key type and the
// expiry period of each role, defaults filled in.
func checkRepoOptions(opts RepoOptions) (string, map[string]time.Duration, error) {
	keyType := opts.KeyType
	if keyType == "" {
		keyType = KeyEd25519
	}
	if keyType != KeyEd25519 && keyType != KeyECDSAP256 {
		return "", nil, fmt.Errorf("%w: key type %q (want %s or %s)", ErrUnsupportedKey, keyType, KeyEd25519, KeyECDSAP256)
	}
	if err := checkRoleNames(opts.Thresholds, opts.KeyCounts, opts.Signers, opts.Expiry); err != nil {
		return "", nil, err
	}
	expiry := DefaultExpiry()
	for role, d := range opts.Expiry {
		if err := checkExpiry(role, d); err != nil {
			return "", nil, err
		}
		expiry[role] = d
	}
	return keyType, expiry, nil
}

// addInitialKeys gives role of a new root its threshold and keys: those of opts.Signers, then
// generated ones up to the key count. It returns the generated keys, to be written to the keys
// directory.
func (r *repo) addInitialKeys(role string, opts RepoOptions) ([]*keySigner, error) {
	threshold, keys, err := roleKeyCounts(role, opts)
	if err != nil {
		return nil, err
	}
	r.root.Signed.Roles[role].Threshold = threshold
	for _, s := range opts.Signers[role] {
		ks, err := newKeySigner(s)
		if err != nil {
			return nil, fmt.Errorf("key for %s: %w", role, err)
		}
		if err := r.root.Signed.AddKey(ks.key, role); err != nil {
			return nil, fmt.Errorf("adding key to %s: %w", role, err)
		}
		r.signers = append(r.signers, ks)
	}
	var generated []*keySigner
	for range keys - len(opts.Signers[role]) {
		ks, err := generateKeySigner(r.keyType, role)
		if err != nil {
			return nil, err
		}
		if err := r.root.Signed.AddKey(ks.key, role); err != nil {
			return nil, fmt.Errorf("adding key to %s: %w", role, err)
		}
		r.signers = append(r.signers, ks)
		generated = append(generated, ks)
	}
	if n := len(r.root.Signed.Roles[role].KeyIDs); n < threshold {
		return nil, fmt.Errorf("%w: %s has %d distinct keys, fewer than its threshold %d", ErrBadOption, role, n, threshold)
	}
	return generated, nil
}

// writeRepoConfig records the key type and expiry periods in config.json; written last, it marks
// the repository complete.
func writeRepoConfig(dir, keyType string, expiry map[string]time.Duration) error {
	c := repoConfig{KeyType: keyType, Expiry: map[string]string{}}
	for role, d := range expiry {
		c.Expiry[role] = d.String()
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", configFile, err)
	}
	return writeFileAtomic(filepath.Join(dir, configFile), append(data, '\n'), 0o644)
}

// checkRoleNames refuses option maps keyed by anything but the four top-level roles.
func checkRoleNames[A, B, C, D any](a map[string]A, b map[string]B, c map[string]C, d map[string]D) error {
	var names []string
	for k := range a {
		names = append(names, k)
	}
	for k := range b {
		names = append(names, k)
	}
	for k := range c {
		names = append(names, k)
	}
	for k := range d {
		names = append(names, k)
	}
	for _, n := range names {
		if !slices.Contains(Roles(), n) {
			return fmt.Errorf("%w: unknown role %q (want root, targets, snapshot or timestamp)", ErrBadOption, n)
		}
	}
	return nil
}

// roleKeyCounts works out a role's threshold and key count from the options.
func roleKeyCounts(role string, opts RepoOptions) (threshold, keys int, err error) {
	threshold = 1
	if t, ok := opts.Thresholds[role]; ok {
		threshold = t
	}
	if threshold < 1 || threshold > maxThreshold {
		return 0, 0, fmt.Errorf("%w: threshold of %s is %d, want 1 to %d", ErrBadOption, role, threshold, maxThreshold)
	}
	keys = max(threshold, len(opts.Signers[role]))
	if k, ok := opts.KeyCounts[role]; ok {
		keys = k
	}
	if keys < threshold || keys > maxThreshold {
		return 0, 0, fmt.Errorf("%w: %s has %d keys, want %d (its threshold) to %d", ErrBadOption, role, keys, threshold, maxThreshold)
	}
	if keys < len(opts.Signers[role]) {
		return 0, 0, fmt.Errorf("%w: %s is given %d signers but only %d keys", ErrBadOption, role, len(opts.Signers[role]), keys)
	}
	return threshold, keys, nil
}

// validateTargetName accepts plain file names: 1 to 255 characters from [A-Za-z0-9._-], not
// starting with a dot. Names end up as file names on the publisher and in client caches.
func validateTargetName(name string) error {
	if name == "" || len(name) > 255 {
		return fmt.Errorf("%w: %q must have 1 to 255 characters", ErrBadTargetName, name)
	}
	if name[0] == '.' {
		return fmt.Errorf("%w: %q starts with a dot", ErrBadTargetName, name)
	}
	for _, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%w: %q may hold only letters, digits, '.', '_' and '-'", ErrBadTargetName, name)
		}
	}
	return nil
}

// AddTarget adds (or replaces) one target file and signs new targets, snapshot and timestamp
// versions. signers are keys held outside dir/keys (for example PKCS#11) for any of these roles.
func AddTarget(dir, name string, data []byte, signers ...crypto.Signer) error {
	return AddTargets(dir, map[string][]byte{name: data}, signers...)
}

// AddTargets adds (or replaces) several target files in one new targets version. Targets whose
// content is unchanged are left alone; if nothing changes, nothing is signed.
func AddTargets(dir string, targets map[string][]byte, signers ...crypto.Signer) error {
	unlock, err := lockExisting(dir)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := openRepo(dir, signers)
	if err != nil {
		return err
	}
	if err := r.checkExtraSigners(RoleTargets, RoleSnapshot, RoleTimestamp); err != nil {
		return err
	}
	changed, err := r.setTargets(targets)
	if err != nil || !changed {
		return err
	}
	if err := r.commitTargets(); err != nil {
		return err
	}
	return r.save()
}

// setTargets stores target files under staged/targets and records them in the targets metadata,
// reporting whether anything changed.
func (r *repo) setTargets(targets map[string][]byte) (bool, error) {
	changed := false
	for name, data := range targets {
		if err := validateTargetName(name); err != nil {
			return false, err
		}
		if len(data) > MaxTargetSize {
			return false, fmt.Errorf("%w: target %s is %d bytes, more than the %d allowed", ErrBadOption, name, len(data), MaxTargetSize)
		}
		tf, err := metadata.TargetFile().FromBytes(name, data, "sha256")
		if err != nil {
			return false, fmt.Errorf("hashing target %s: %w", name, err)
		}
		if old, ok := r.targets.Signed.Targets[name]; ok && old.Equal(*tf) {
			continue
		}
		if err := writeFileAtomic(filepath.Join(r.dir, stagedTargets, name), data, 0o644); err != nil {
			return false, err
		}
		r.targets.Signed.Targets[name] = tf
		changed = true
	}
	return changed, nil
}

// commitTargets signs a new targets version and the snapshot and timestamp that follow it.
func (r *repo) commitTargets() error {
	if err := r.bump(RoleTargets); err != nil {
		return err
	}
	if err := r.signRole(RoleTargets); err != nil {
		return err
	}
	if err := r.newSnapshot(); err != nil {
		return err
	}
	return r.newTimestamp()
}

// RemoveTarget removes a target and signs new targets, snapshot and timestamp versions.
func RemoveTarget(dir, name string, signers ...crypto.Signer) error {
	unlock, err := lockExisting(dir)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := openRepo(dir, signers)
	if err != nil {
		return err
	}
	if err := r.checkExtraSigners(RoleTargets, RoleSnapshot, RoleTimestamp); err != nil {
		return err
	}
	if _, ok := r.targets.Signed.Targets[name]; !ok {
		return fmt.Errorf("%w: %q is not in the repository", ErrTargetMissing, name)
	}
	delete(r.targets.Signed.Targets, name)
	if err := r.commitTargets(); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, stagedTargets, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing staged target: %w", err)
	}
	return r.save()
}

// SignOptions configure Sign.
type SignOptions struct {
	// Signers are keys held outside the keys directory (PKCS#11, other files). Each must be a key
	// of the role (for root: of the current or the previous root).
	Signers []crypto.Signer
	// Bump starts a new version of the role with a fresh expiry before signing; without it, the
	// signatures of the available keys are added to the current version.
	Bump bool
}

// Sign adds signatures to role's staged metadata with every available key of the role: those in
// opts.Signers and those in dir/keys. A new snapshot signature, or a new targets version, is
// followed by a new timestamp (and snapshot) so that the repository stays consistent.
func Sign(dir, role string, opts SignOptions) error {
	if !slices.Contains(Roles(), role) {
		return fmt.Errorf("%w: unknown role %q (want root, targets, snapshot or timestamp)", ErrBadOption, role)
	}
	unlock, err := lockExisting(dir)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := openRepo(dir, opts.Signers)
	if err != nil {
		return err
	}
	if opts.Bump {
		if err := r.bump(role); err != nil {
			return err
		}
	}
	if err := r.checkExtraSigners(role); err != nil {
		return err
	}
	if err := r.signRole(role); err != nil {
		return err
	}
	switch {
	case role == RoleTargets && opts.Bump:
		if err := r.newSnapshot(); err != nil {
			return err
		}
		if err := r.newTimestamp(); err != nil {
			return err
		}
	case role == RoleSnapshot:
		if err := r.newTimestamp(); err != nil {
			return err
		}
	}
	return r.save()
}

// RefreshTimestamp signs a new timestamp valid for expiry (0: the repository's configured
// period). When the snapshot would expire before the new timestamp, a new snapshot is signed too.
// signers are keys for snapshot or timestamp held outside dir/keys.
func RefreshTimestamp(dir string, expiry time.Duration, signers ...crypto.Signer) error {
	unlock, err := lockExisting(dir)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := openRepo(dir, signers)
	if err != nil {
		return err
	}
	if err := r.checkExtraSigners(RoleSnapshot, RoleTimestamp); err != nil {
		return err
	}
	if expiry != 0 {
		if err := checkExpiry(RoleTimestamp, expiry); err != nil {
			return err
		}
		r.expiry[RoleTimestamp] = expiry
	}
	if r.snapshot.Signed.Expires.Before(r.expires(RoleTimestamp)) {
		if err := r.newSnapshot(); err != nil {
			return err
		}
	}
	if err := r.newTimestamp(); err != nil {
		return err
	}
	return r.save()
}

// sha256Sum returns the SHA-256 digest of data.
func sha256Sum(data []byte) []byte {
	d := sha256.Sum256(data)
	return d[:]
}

// lockExisting locks a directory that must already hold a repository (so that a mistyped --dir
// is reported, not created).
func lockExisting(dir string) (func(), error) {
	if _, err := os.Stat(filepath.Join(dir, configFile)); err != nil {
		return nil, fmt.Errorf("%w: %s has no %s (run tuf init)", ErrNoRepository, dir, configFile)
	}
	return lockRepo(dir)
}
