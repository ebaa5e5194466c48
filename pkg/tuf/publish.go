package tuf

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/trustedmetadata"
)

// maxRootHistory bounds how many root versions Publish walks.
const maxRootHistory = 1024

// Publish checks the staged metadata the way a client would (every root version signed by its
// own threshold and the previous root's, timestamp, snapshot and targets signed by their
// thresholds, consistent versions and hashes, nothing expired, target files matching their
// hashes) and, if all is well, writes the repository as static files under dir/repository with
// consistent snapshots: N.root.json for every root version and root.json for the newest,
// N.targets.json, N.snapshot.json, timestamp.json (written last) and
// targets/<sha256>.<name>. Any static HTTP server can serve that directory, as can
// NewFileServer. Publish refuses (ErrThreshold, ErrVerification) and writes nothing when a check
// fails.
func Publish(dir string) error {
	unlock, err := lockExisting(dir)
	if err != nil {
		return err
	}
	defer unlock()
	return publish(dir)
}

func publish(dir string) error {
	roots, err := readRootHistory(dir)
	if err != nil {
		return err
	}
	tm, err := trustedmetadata.New(roots[0])
	if err != nil {
		return publishRefused("root version 1", err)
	}
	for i, data := range roots[1:] {
		if _, err := tm.UpdateRoot(data); err != nil {
			return publishRefused(fmt.Sprintf("root version %d", i+2), err)
		}
	}
	staged := map[string][]byte{}
	for _, role := range []string{RoleTimestamp, RoleSnapshot, RoleTargets} {
		data, err := readBounded(filepath.Join(dir, stagedDir, role+".json"), maxMetadataFile)
		if err != nil {
			return fmt.Errorf("reading staged %s: %w", role, err)
		}
		staged[role] = data
	}
	if _, err := tm.UpdateTimestamp(staged[RoleTimestamp]); err != nil {
		return publishRefused("timestamp", err)
	}
	if _, err := tm.UpdateSnapshot(staged[RoleSnapshot], false); err != nil {
		return publishRefused("snapshot", err)
	}
	targets, err := tm.UpdateDelegatedTargets(staged[RoleTargets], RoleTargets, RoleRoot)
	if err != nil {
		return publishRefused("targets", err)
	}
	files := map[string][]byte{}
	for name, tf := range targets.Signed.Targets {
		if err := validateTargetName(name); err != nil {
			return err
		}
		data, err := readBounded(filepath.Join(dir, stagedTargets, name), MaxTargetSize)
		if err != nil {
			return fmt.Errorf("reading target %s: %w", name, err)
		}
		if err := tf.VerifyLengthHashes(data); err != nil {
			return publishRefused("target "+name, err)
		}
		files[filepath.Join("targets", hex.EncodeToString(tf.Hashes["sha256"])+"."+name)] = data
	}
	out := filepath.Join(dir, publishDir)
	for name, data := range files {
		if err := writeFileAtomic(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
	}
	for i, data := range roots {
		if err := writeFileAtomic(filepath.Join(out, strconv.Itoa(i+1)+".root.json"), data, 0o644); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(filepath.Join(out, "root.json"), roots[len(roots)-1], 0o644); err != nil {
		return err
	}
	versioned := []struct {
		role    string
		version int64
	}{
		{RoleTargets, targets.Signed.Version},
		{RoleSnapshot, tm.Snapshot.Signed.Version},
	}
	for _, v := range versioned {
		name := fmt.Sprintf("%d.%s.json", v.version, v.role)
		if err := writeFileAtomic(filepath.Join(out, name), staged[v.role], 0o644); err != nil {
			return err
		}
	}
	return writeFileAtomic(filepath.Join(out, "timestamp.json"), staged[RoleTimestamp], 0o644)
}

// publishRefused wraps a verification failure of staged metadata.
func publishRefused(what string, err error) error {
	if errors.Is(err, &metadata.ErrUnsignedMetadata{}) {
		return fmt.Errorf("publish refused: %s: %w: %w (add signatures with tuf sign)", what, ErrThreshold, err)
	}
	return fmt.Errorf("publish refused: %s: %w: %w", what, ErrVerification, err)
}

// readRootHistory returns staged/roots/1.root.json .. N.root.json, which must be contiguous.
func readRootHistory(dir string) ([][]byte, error) {
	entries, err := os.ReadDir(filepath.Join(dir, stagedRoots))
	if err != nil {
		return nil, fmt.Errorf("reading root history: %w", err)
	}
	var versions []int
	for _, e := range entries {
		v, ok := strings.CutSuffix(e.Name(), ".root.json")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("root history: unexpected file %s", e.Name())
		}
		versions = append(versions, n)
	}
	sort.Ints(versions)
	if len(versions) == 0 || len(versions) > maxRootHistory {
		return nil, fmt.Errorf("root history holds %d versions, want 1 to %d", len(versions), maxRootHistory)
	}
	var roots [][]byte
	for i, v := range versions {
		if v != i+1 {
			return nil, fmt.Errorf("root history: version %d is missing", i+1)
		}
		data, err := readBounded(filepath.Join(dir, stagedRoots, strconv.Itoa(v)+".root.json"), maxMetadataFile)
		if err != nil {
			return nil, fmt.Errorf("reading root version %d: %w", v, err)
		}
		roots = append(roots, data)
	}
	return roots, nil
}

// publishedPath matches the only file names a published repository holds. It is compiled on
// first use: the bounded repetitions make it costly, and most commands never serve a repository.
var publishedPath = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:(?:[1-9][0-9]{0,18}\.)?root\.json|timestamp\.json|[1-9][0-9]{0,18}\.(?:snapshot|targets)\.json|targets/[0-9a-f]{64}\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,254})$`)
})

// isPublishedPath reports whether a request path (without the leading slash) names a file a
// published repository may hold.
func isPublishedPath(p string) bool {
	return len(p) < 512 && publishedPath().MatchString(p)
}

// NewFileServer returns an http.Handler that serves the published repository of the repository
// directory dir (dir/repository) for GET and HEAD: only metadata and target file names, never a
// directory listing, never the keys or staged files. Mount it under any prefix with
// http.StripPrefix; the prefix's URL is the mirror URL clients use.
func NewFileServer(dir string) http.Handler {
	return &fileServer{dir: filepath.Join(dir, publishDir)}
}

type fileServer struct{ dir string }

func (s *fileServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(req.URL.Path, "/")
	if !isPublishedPath(name) {
		http.NotFound(w, req)
		return
	}
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		http.NotFound(w, req)
		return
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(name))
	if err != nil {
		http.NotFound(w, req)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, req)
		return
	}
	if strings.HasSuffix(name, ".json") {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	if name == "timestamp.json" || name == "root.json" {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, req, "", st.ModTime(), f)
}
