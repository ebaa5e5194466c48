package tuf

import (
	"crypto"
	"fmt"
	"path/filepath"
	"slices"
)

// RotateOptions configure Rotate.
type RotateOptions struct {
	// NewSigners are the role's new keys when they are held outside the keys directory
	// (PKCS#11, KMS); when empty, Keys new keys are generated into dir/keys.
	NewSigners []crypto.Signer
	// Keys is how many keys to generate (default: as many as the role has now). Ignored when
	// NewSigners is given.
	Keys int
	// Threshold is the role's new threshold (default: unchanged).
	Threshold int
	// Signers are other keys held outside the keys directory that the rotation needs: for a root
	// rotation, old root keys that must sign the new root.
	Signers []crypto.Signer
}

// Rotate replaces all keys of role with new ones in a new root version. The new root is signed
// by the available keys of both the old and the new root, so that clients holding the old root
// accept it. Unless the rotated role is root, its metadata is re-signed with the new keys as a
// new version, with new snapshot and timestamp versions as needed. Local files of keys no role
// uses any more move to dir/keys/retired.
func Rotate(dir, role string, opts RotateOptions) error {
	if !slices.Contains(Roles(), role) {
		return fmt.Errorf("%w: unknown role %q (want root, targets, snapshot or timestamp)", ErrBadOption, role)
	}
	unlock, err := lockExisting(dir)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := openRepo(dir, append(slices.Clone(opts.Signers), opts.NewSigners...))
	if err != nil {
		return err
	}
	oldIDs := slices.Clone(r.root.Signed.Roles[role].KeyIDs)
	if err := r.checkRotationSigners(role, oldIDs, opts.Signers); err != nil {
		return err
	}
	newKeys, generated, err := r.rotationKeys(role, oldIDs, opts)
	if err != nil {
		return err
	}
	threshold := r.root.Signed.Roles[role].Threshold
	if opts.Threshold != 0 {
		threshold = opts.Threshold
	}
	if threshold < 1 || threshold > len(newKeys) {
		return fmt.Errorf("%w: threshold %d for %s with %d new keys", ErrBadOption, threshold, role, len(newKeys))
	}
	if err := r.replaceKeys(role, oldIDs, newKeys, threshold); err != nil {
		return err
	}
	if err := r.resignRotated(role); err != nil {
		return err
	}
	for _, ks := range generated {
		if err := writeKeyFile(filepath.Join(dir, keysDir), ks); err != nil {
			return err
		}
	}
	r.retire = oldIDs
	return r.save()
}

// checkRotationSigners requires each extra signer of a rotation to be a root key or one of the
// rotated role's keys (oldIDs).
func (r *repo) checkRotationSigners(role string, oldIDs []string, signers []crypto.Signer) error {
	for _, s := range signers {
		ks, err := newKeySigner(s)
		if err != nil {
			return err
		}
		if !slices.Contains(r.allowedKeys(RoleRoot), ks.id) && !slices.Contains(oldIDs, ks.id) {
			return fmt.Errorf("%w: key %s is neither a root key nor a key of %s", ErrUnknownKey, shortID(ks.id), role)
		}
	}
	return nil
}

// rotationKeys returns the new keys of role: opts.NewSigners, or keys generated here (also
// returned as generated, to be written to the keys directory). None may be a key the role has
// (oldIDs), nor be given twice.
func (r *repo) rotationKeys(role string, oldIDs []string, opts RotateOptions) (newKeys, generated []*keySigner, err error) {
	for _, s := range opts.NewSigners {
		ks, err := newKeySigner(s)
		if err != nil {
			return nil, nil, fmt.Errorf("new key for %s: %w", role, err)
		}
		newKeys = append(newKeys, ks)
	}
	if len(newKeys) == 0 {
		n := opts.Keys
		if n == 0 {
			n = len(oldIDs)
		}
		if newKeys, err = r.generateKeys(role, n); err != nil {
			return nil, nil, err
		}
		generated = newKeys
	}
	for i, ks := range newKeys {
		if slices.Contains(oldIDs, ks.id) {
			return nil, nil, fmt.Errorf("%w: key %s is already a key of %s", ErrBadOption, shortID(ks.id), role)
		}
		if slices.ContainsFunc(newKeys[:i], func(k *keySigner) bool { return k.id == ks.id }) {
			return nil, nil, fmt.Errorf("%w: new key %s given twice", ErrBadOption, shortID(ks.id))
		}
	}
	return newKeys, generated, nil
}

// generateKeys makes n keys of the repository's key type for role.
func (r *repo) generateKeys(role string, n int) ([]*keySigner, error) {
	if n < 1 || n > maxThreshold {
		return nil, fmt.Errorf("%w: %d new keys for %s, want 1 to %d", ErrBadOption, n, role, maxThreshold)
	}
	keys := make([]*keySigner, 0, n)
	for range n {
		ks, err := generateKeySigner(r.keyType, role)
		if err != nil {
			return nil, err
		}
		keys = append(keys, ks)
	}
	return keys, nil
}

// replaceKeys starts a new root version in which role has newKeys instead of oldIDs, with
// threshold, and signs it with the keys of the old and the new root at hand.
func (r *repo) replaceKeys(role string, oldIDs []string, newKeys []*keySigner, threshold int) error {
	if err := r.bump(RoleRoot); err != nil {
		return err
	}
	for _, id := range oldIDs {
		if err := r.root.Signed.RevokeKey(id, role); err != nil {
			return fmt.Errorf("removing key %s from %s: %w", shortID(id), role, err)
		}
	}
	for _, ks := range newKeys {
		if err := r.root.Signed.AddKey(ks.key, role); err != nil {
			return fmt.Errorf("adding key %s to %s: %w", shortID(ks.id), role, err)
		}
	}
	r.root.Signed.Roles[role].Threshold = threshold
	r.signers = append(r.signers, newKeys...)
	return r.signRole(RoleRoot)
}

// resignRotated signs the metadata of a rotated role other than root with its new keys, as new
// versions of it and of the roles that name it.
func (r *repo) resignRotated(role string) error {
	switch role {
	case RoleTargets:
		return r.commitTargets()
	case RoleSnapshot:
		if err := r.newSnapshot(); err != nil {
			return err
		}
		return r.newTimestamp()
	case RoleTimestamp:
		return r.newTimestamp()
	}
	return nil
}
