package tuf

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"
)

// TUF counts a role's threshold in key IDs, and a key ID is only a name: a role that lists one
// public key under two key IDs and a threshold of 2 is satisfied by one key's signature
// presented under both. go-tuf v2.4.0 counts the listed key IDs whose signature verifies and
// never checks that a key ID is the hash of its key, so it accepts such metadata, whether the
// second entry repeats the key as is or spells it another way (another scheme string, hex in
// upper case, a keyid_hash_algorithms field, another PEM layout) so that its computed ID differs
// too. The client refuses such metadata instead of counting the key once: a well-formed
// repository never lists one key twice in a role, so metadata that does is broken or forged,
// and failing closed is safer than guessing what threshold its signers meant. The same key in
// different roles is allowed, as TUF allows it.

// duplicateKeyError is metadata whose role lists one public key under two key IDs. It matches
// ErrVerification, never ErrFetch, so that Load does not fall back to the cache over it.
type duplicateKeyError struct {
	role          string
	first, second string // key IDs in the order the role lists them
}

func (e *duplicateKeyError) Error() string {
	return fmt.Sprintf("role %q lists one key under key IDs %s and %s", e.role, keyIDForMessage(e.first), keyIDForMessage(e.second))
}

func (e *duplicateKeyError) Unwrap() error { return ErrVerification }

// keyIDForMessage returns a key ID as is when it is hex of at most 64 digits, quoted and
// shortened otherwise: the metadata, and so the key ID, may come from an attacker.
func keyIDForMessage(id string) string {
	if id != "" && len(id) <= 64 && strings.Trim(id, "0123456789abcdef") == "" {
		return id
	}
	if len(id) > 64 {
		return strconv.Quote(id[:64]) + "…"
	}
	return strconv.Quote(id)
}

// checkDistinctKeys refuses a TUF metadata document (root, or targets with delegations) in
// which a role lists the same public key under more than one key ID. Keys are compared by their
// PKIX encoding after parsing, so no spelling of a key hides it. It returns nil for other
// metadata types and for bytes go-tuf would not parse: go-tuf parses every document with the
// same code (FromBytes) and refuses those itself, and a key it cannot parse (which makes any
// role listing it fail verification) is not compared either.
func checkDistinctKeys(data []byte) error {
	switch metadataType(data) {
	case metadata.ROOT:
		md, err := metadata.Root().FromBytes(data)
		if err != nil {
			return nil
		}
		for _, name := range slices.Sorted(maps.Keys(md.Signed.Roles)) {
			if role := md.Signed.Roles[name]; role != nil {
				if err := distinctKeys(name, role.KeyIDs, md.Signed.Keys); err != nil {
					return err
				}
			}
		}
	case metadata.TARGETS:
		md, err := metadata.Targets().FromBytes(data)
		if err != nil || md.Signed.Delegations == nil {
			return nil
		}
		d := md.Signed.Delegations
		for _, role := range d.Roles {
			if err := distinctKeys(role.Name, role.KeyIDs, d.Keys); err != nil {
				return err
			}
		}
		if s := d.SuccinctRoles; s != nil {
			if err := distinctKeys(s.NamePrefix+"-*", s.KeyIDs, d.Keys); err != nil {
				return err
			}
		}
	}
	return nil
}

// metadataType returns signed._type of a metadata envelope, read the way go-tuf reads it to
// choose a document's type (exact field names), or "" when there is none.
func metadataType(data []byte) string {
	var envelope, signed map[string]json.RawMessage
	var typ string
	if json.Unmarshal(data, &envelope) != nil || json.Unmarshal(envelope["signed"], &signed) != nil || json.Unmarshal(signed["_type"], &typ) != nil {
		return ""
	}
	return typ
}

// distinctKeys refuses a role whose key IDs name one public key twice. A key ID listed twice is
// one key ID (go-tuf counts it once) and passes.
func distinctKeys(role string, keyIDs []string, keys map[string]*metadata.Key) error {
	firstID := make(map[string]string, len(keyIDs)) // PKIX DER of a key -> the first ID naming it
	for _, id := range keyIDs {
		der, ok := keyMaterial(keys[id])
		if !ok {
			continue
		}
		first, seen := firstID[der]
		if !seen {
			firstID[der] = id
		} else if first != id {
			return &duplicateKeyError{role: role, first: first, second: id}
		}
	}
	return nil
}

// keyMaterial returns the PKIX DER of a TUF key's public key, as go-tuf parses it to verify
// signatures, or false when it does not parse.
func keyMaterial(key *metadata.Key) (string, bool) {
	if key == nil {
		return "", false
	}
	pub, err := key.ToPublicKey()
	if err != nil {
		return "", false
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", false
	}
	return string(der), true
}

// checkTrustedKeys checks the root an updater starts from and the metadata cached in
// metadataDir (which go-tuf loads without fetching it again, and which a client older than this
// check may have stored) with checkDistinctKeys.
func checkTrustedKeys(root []byte, metadataDir string) error {
	if err := checkDistinctKeys(root); err != nil {
		return fmt.Errorf("%w: loading trusted root: %w", ErrVerification, err)
	}
	entries, err := os.ReadDir(metadataDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading TUF cache: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		file := filepath.Join(metadataDir, e.Name())
		data, err := readBounded(file, maxTargetsSize)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading TUF cache: %w", err)
		}
		if err := checkDistinctKeys(data); err != nil {
			return fmt.Errorf("%w: TUF cache %s: %w", ErrVerification, file, err)
		}
	}
	return nil
}

// distinctKeysFetcher passes the metadata files its fetcher downloads to go-tuf only once
// checkDistinctKeys accepted them; target files (under targetsURL) pass unchecked.
type distinctKeysFetcher struct {
	fetcher.Fetcher
	targetsURL string
}

func newDistinctKeysFetcher(f fetcher.Fetcher, targetsURL string) *distinctKeysFetcher {
	return &distinctKeysFetcher{Fetcher: f, targetsURL: strings.TrimSuffix(targetsURL, "/") + "/"}
}

// DownloadFile downloads url and checks it unless it is a target file.
func (f *distinctKeysFetcher) DownloadFile(url string, maxLength int64, timeout time.Duration) ([]byte, error) {
	data, err := f.Fetcher.DownloadFile(url, maxLength, timeout)
	if err != nil || strings.HasPrefix(url, f.targetsURL) {
		return data, err
	}
	if err := checkDistinctKeys(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path.Base(url), err)
	}
	return data, nil
}
