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
	for _, s := range opts.Signers {
		ks, err := newKeySigner(s)
		if err != nil {
			return err
		}
		if !slices.Contains(r.allowedKeys(RoleRoot), ks.id) && !slices.Contains(oldIDs, ks.id) {
			return fmt.Errorf("%w: key %s is neither a root key nor a key of %s", ErrUnknownKey, shortID(ks.id), role)
		}
	}
	var newKeys, generated []*keySigner
	for _, s := range opts.NewSigners {
		ks, err := newKeySigner(s)
		if err != nil {
			return fmt.Errorf("new key for %s: %w", role, err)
		}
		newKeys = append(newKeys, ks)
	}
	if len(newKeys) == 0 {
		n := opts.Keys
		if n == 0 {
			n = len(oldIDs)
		}
		if n < 1 || n > maxThreshold {
			return fmt.Errorf("%w: %d new keys for %s, want 1 to %d", ErrBadOption, n, role, maxThreshold)
		}
		for range n {
			s, err := generateKey(r.keyType)
			if err != nil {
				return fmt.Errorf("generating %s key: %w", role, err)
			}
			ks, err := newKeySigner(s)
			if err != nil {
				return err
			}
			newKeys = append(newKeys, ks)
		}
		generated = newKeys
	}
	for i, ks := range newKeys {
		if slices.Contains(oldIDs, ks.id) {
			return fmt.Errorf("%w: key %s is already a key of %s", ErrBadOption, shortID(ks.id), role)
		}
		if slices.ContainsFunc(newKeys[:i], func(k *keySigner) bool { return k.id == ks.id }) {
			return fmt.Errorf("%w: new key %s given twice", ErrBadOption, shortID(ks.id))
		}
	}
	threshold := r.root.Signed.Roles[role].Threshold
	if opts.Threshold != 0 {
		threshold = opts.Threshold
	}
	if threshold < 1 || threshold > len(newKeys) {
		return fmt.Errorf("%w: threshold %d for %s with %d new keys", ErrBadOption, threshold, role, len(newKeys))
	}

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
	if err := r.signRole(RoleRoot); err != nil {
		return err
	}
	switch role {
	case RoleTargets:
		err = r.commitTargets()
	case RoleSnapshot:
		if err = r.newSnapshot(); err == nil {
			err = r.newTimestamp()
		}
	case RoleTimestamp:
		err = r.newTimestamp()
	}
	if err != nil {
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
