package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// racingReadAttempts is how often a read of a tag that concurrent writers rewrite is tried.
const racingReadAttempts = 8

// maxConfirmRounds bounds how often an entry lost to a concurrent writer is re-added.
const maxConfirmRounds = 10

// tagIndex is the referrers tag schema's index at <repo>:sha256-<hex> as read.
type tagIndex struct {
	manifests   []v1.Descriptor
	annotations map[string]string
	digest      string // digest of the stored index, "" when absent
	etag        string
}

func (t *tagIndex) has(d v1.Hash) bool {
	for _, m := range t.manifests {
		if m.Digest == d {
			return true
		}
	}
	return false
}

// readTagIndex reads the index at tag; an absent tag is an empty index.
func (c *client) readTagIndex(ctx context.Context, tag string, maxEntries int) (*tagIndex, error) {
	// Registries that rewrite a tag in place (distribution 2.8's filesystem storage) can fail
	// a read racing with a concurrent write: allow more attempts than usual.
	f, err := c.getManifestAttempts(ctx, tag, maxEntries, racingReadAttempts)
	if errors.Is(err, ErrNotFound) {
		return &tagIndex{}, nil
	}
	if err != nil {
		return nil, err
	}
	if !f.desc.MediaType.IsIndex() {
		return nil, fmt.Errorf("referrers tag %s:%s holds a %s, not an index: %w", c.repo.Name(), tag, f.desc.MediaType, ErrInvalidManifest)
	}
	return &tagIndex{manifests: f.m.Manifests, annotations: f.m.Annotations, digest: f.desc.Digest.String(), etag: f.etag}, nil
}

// writeTagIndex writes manifests as the index at tag, conditionally on the etag read when the
// registry sent one. It reports false when the registry refused the condition.
func (c *client) writeTagIndex(ctx context.Context, tag string, t *tagIndex, manifests []v1.Descriptor) (bool, error) {
	if manifests == nil {
		manifests = []v1.Descriptor{}
	}
	body, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: manifests, Annotations: t.annotations})
	if err != nil {
		return false, err
	}
	hdr := http.Header{}
	if t.etag != "" {
		hdr.Set("If-Match", t.etag)
	}
	_, err = c.putManifest(ctx, tag, MediaTypeOCIIndex, body, hdr)
	var re *RegistryError
	if errors.As(err, &re) && re.StatusCode == http.StatusPreconditionFailed {
		return false, nil
	}
	return err == nil, err
}

// addToTagIndex adds entry to the referrers tag index, narrowing the read-modify-write race
// that registries without conditional writes leave open: after writing, it reads the index
// back at once and again after a random delay, and writes its entry again until both reads
// show it. The delay grows with this writer's own read-to-write time (a loaded registry or
// machine makes every writer slower), see confirmDelay. An entry can still be lost to a
// concurrent writer that read the index before this one wrote it and writes it back only
// after this writer's second confirming read; the delay makes that window small, it does not
// close it.
func (c *client) addToTagIndex(ctx context.Context, tag string, entry v1.Descriptor) error {
	readAt := time.Now()
	idx, err := c.readTagIndex(ctx, tag, c.o.limits.MaxLayers)
	if err != nil {
		return err
	}
	window := time.Duration(0)
	for round := 0; round < maxConfirmRounds; round++ {
		if !idx.has(entry.Digest) {
			list := append(append([]v1.Descriptor{}, idx.manifests...), entry)
			ok, err := c.writeTagIndex(ctx, tag, idx, list)
			if err != nil {
				return err
			}
			window = max(window, time.Since(readAt))
			if !ok { // conditional write refused: someone wrote in between
				readAt = time.Now()
				if idx, err = c.readTagIndex(ctx, tag, c.o.limits.MaxLayers); err != nil {
					return err
				}
				continue
			}
		}
		readAt = time.Now()
		if idx, err = c.readTagIndex(ctx, tag, c.o.limits.MaxLayers); err != nil {
			return err
		}
		if idx.has(entry.Digest) {
			if err := sleepCtx(ctx, confirmDelay(c.o.confirmDelay, window)); err != nil {
				return err
			}
			readAt = time.Now()
			if idx, err = c.readTagIndex(ctx, tag, c.o.limits.MaxLayers); err != nil {
				return err
			}
			if idx.has(entry.Digest) {
				return nil
			}
		}
		// Lost to a concurrent writer: back off before writing again, or every writer that
		// lost would collide again at once.
		if err := sleepCtx(ctx, lostBackoff(round, window)); err != nil {
			return err
		}
		readAt = time.Now()
		if idx, err = c.readTagIndex(ctx, tag, c.o.limits.MaxLayers); err != nil {
			return err
		}
	}
	return fmt.Errorf("referrers tag %s:%s: entry %s kept being overwritten by concurrent writers after %d attempts", c.repo.Name(), tag, entry.Digest, maxConfirmRounds)
}

// lostBackoff is the random wait before rewriting an entry a concurrent writer dropped: it
// doubles with each loss, starting from a few read-to-write windows.
func lostBackoff(round int, window time.Duration) time.Duration {
	base := max(2*window, 20*time.Millisecond) << min(round, 5)
	return time.Duration(rand.Int64N(int64(base) + 1))
}

// confirmDelay is the wait before the second confirming read: a random share of base plus
// four times the writer's own read-to-write window, since concurrent writers on the same
// registry take about as long between their read and their write.
func confirmDelay(base, window time.Duration) time.Duration {
	return randomDelay(base) + 4*window
}

// removeFromTagIndex drops the entries with the given digests from the index at tag; an index
// left empty is deleted. It returns how many entries it removed.
func (c *client) removeFromTagIndex(ctx context.Context, tag string, drop map[string]bool) (int, error) {
	idx, err := c.readTagIndex(ctx, tag, c.o.limits.MaxLayers)
	if err != nil || idx.digest == "" {
		return 0, err
	}
	var keep []v1.Descriptor
	for _, m := range idx.manifests {
		if !drop[m.Digest.String()] {
			keep = append(keep, m)
		}
	}
	removed := len(idx.manifests) - len(keep)
	if removed == 0 {
		return 0, nil
	}
	if len(keep) == 0 {
		return removed, c.deleteTag(ctx, tag, idx.digest)
	}
	ok, err := c.writeTagIndex(ctx, tag, idx, keep)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("referrers tag %s:%s changed while being updated; run again", c.repo.Name(), tag)
	}
	return removed, nil
}

// deleteTag deletes the manifest dig that tag points at, and the tag itself on registries
// (such as go-containerregistry's) where deleting by digest leaves the tag behind.
func (c *client) deleteTag(ctx context.Context, tag, dig string) error {
	if err := c.deleteManifest(ctx, dig); err != nil && !errors.Is(err, ErrNotFound) {
		// Some registries only delete by tag.
		if err2 := c.deleteManifest(ctx, tag); err2 != nil {
			return err
		}
		return nil
	}
	resp, err := c.do(ctx, request{method: http.MethodHead, url: c.url("manifests/" + tag),
		header: http.Header{"Accept": {manifestAccept}}})
	if err != nil {
		return err
	}
	drain(resp)
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	if err := c.deleteManifest(ctx, tag); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

func randomDelay(max time.Duration) time.Duration {
	return max/4 + time.Duration(rand.Int64N(int64(max-max/4)+1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
