package tuf

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// NewDevRepository makes (or, when dir already holds one, updates) the TUF repository of a
// local development stack in one call: Ed25519 keys with threshold 1 in dir/keys, the given
// targets (normally TrustedRootTarget and SigningConfigTarget), every role valid for expiry, all
// signed and published under dir/repository. It returns the newest root.json, the initial trust
// a client passes to Initialize. Serve the repository with NewFileServer(dir).
func NewDevRepository(dir string, targets map[string][]byte, expiry time.Duration) (rootJSON []byte, err error) {
	if err := checkExpiry("every role", expiry); err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("%w: no targets for the development repository", ErrBadOption)
	}
	unlock, err := lockRepo(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(dir, configFile)); err != nil {
		exp := map[string]time.Duration{}
		for _, role := range Roles() {
			exp[role] = expiry
		}
		if err := initRepository(dir, RepoOptions{Expiry: exp}); err != nil {
			return nil, err
		}
	}
	r, err := openRepo(dir, nil)
	if err != nil {
		return nil, err
	}
	for _, role := range Roles() {
		r.expiry[role] = expiry
	}
	if _, err := r.setTargets(targets); err != nil {
		return nil, err
	}
	// Re-sign everything with fresh expiries, so that a repository left from an earlier run is
	// valid again. The root only gets a new version when less than half of expiry is left.
	if r.root.Signed.Expires.Before(r.now.Add(expiry / 2)) {
		if err := r.bump(RoleRoot); err != nil {
			return nil, err
		}
		if err := r.signRole(RoleRoot); err != nil {
			return nil, err
		}
	}
	if err := r.commitTargets(); err != nil {
		return nil, err
	}
	if err := r.save(); err != nil {
		return nil, err
	}
	if err := writeRepoConfig(dir, r.keyType, r.expiry); err != nil {
		return nil, err
	}
	if err := publish(dir); err != nil {
		return nil, err
	}
	root, err := readBounded(filepath.Join(dir, publishDir, "root.json"), maxRootSize)
	if err != nil {
		return nil, fmt.Errorf("reading published root: %w", err)
	}
	return root, nil
}
