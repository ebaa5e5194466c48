package tuf

import (
	"slices"
	"sort"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// RoleStatus describes the staged metadata of one role.
type RoleStatus struct {
	Role      string
	Version   int64
	Expires   time.Time
	Threshold int
	// KeyIDs are the role's key IDs; Local says which of them have a file in dir/keys.
	KeyIDs []string
	Local  []bool
	// Valid counts the signatures that verify under the role's keys.
	Valid int
	// PreviousRootValid counts, for a root past version 1, the signatures that verify under the
	// previous root's keys, and PreviousRootThreshold is the previous root's threshold.
	PreviousRootValid, PreviousRootThreshold int
}

// TargetStatus describes one target.
type TargetStatus struct {
	Name   string
	Length int64
	SHA256 string
}

// Status is what Describe reports about a repository.
type Status struct {
	Roles   []RoleStatus
	Targets []TargetStatus
}

// Describe reports the staged state of the repository in dir: each role's version, expiry,
// keys and valid signatures, and the targets.
func Describe(dir string) (*Status, error) {
	r, err := openRepo(dir, nil)
	if err != nil {
		return nil, err
	}
	st := &Status{}
	for _, role := range Roles() {
		rs := RoleStatus{Role: role, Threshold: r.root.Signed.Roles[role].Threshold}
		rs.KeyIDs = slices.Clone(r.root.Signed.Roles[role].KeyIDs)
		sort.Strings(rs.KeyIDs)
		for _, id := range rs.KeyIDs {
			ks, err := r.signersFor([]string{id})
			rs.Local = append(rs.Local, err == nil && len(ks) == 1)
		}
		switch role {
		case RoleRoot:
			rs.Version, rs.Expires = r.root.Signed.Version, r.root.Signed.Expires
			rs.Valid = countValid(r.root, role, r.root)
			if r.prevRoot != nil {
				rs.PreviousRootValid = countValid(r.prevRoot, role, r.root)
				rs.PreviousRootThreshold = r.prevRoot.Signed.Roles[RoleRoot].Threshold
			}
		case RoleTargets:
			rs.Version, rs.Expires = r.targets.Signed.Version, r.targets.Signed.Expires
			rs.Valid = countValid(r.root, role, r.targets)
		case RoleSnapshot:
			rs.Version, rs.Expires = r.snapshot.Signed.Version, r.snapshot.Signed.Expires
			rs.Valid = countValid(r.root, role, r.snapshot)
		case RoleTimestamp:
			rs.Version, rs.Expires = r.timestamp.Signed.Version, r.timestamp.Signed.Expires
			rs.Valid = countValid(r.root, role, r.timestamp)
		}
		st.Roles = append(st.Roles, rs)
	}
	for name, tf := range r.targets.Signed.Targets {
		st.Targets = append(st.Targets, TargetStatus{Name: name, Length: tf.Length, SHA256: tf.Hashes["sha256"].String()})
	}
	sort.Slice(st.Targets, func(i, j int) bool { return st.Targets[i].Name < st.Targets[j].Name })
	return st, nil
}

// countValid counts the keys of role in delegator whose signature on md verifies, by checking
// each key alone with threshold 1.
func countValid(delegator *metadata.Metadata[metadata.RootType], role string, md any) int {
	n := 0
	for _, id := range delegator.Signed.Roles[role].KeyIDs {
		one, err := cloneRoot(delegator)
		if err != nil {
			return 0
		}
		one.Signed.Roles[role] = &metadata.Role{KeyIDs: []string{id}, Threshold: 1}
		if one.VerifyDelegate(role, md) == nil {
			n++
		}
	}
	return n
}
