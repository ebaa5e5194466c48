package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// source is where attached artifacts are read from: a registry repository (client) or an OCI
// image layout directory (layoutSource).
type source interface {
	// getManifest reads the manifest at ref (a digest, or a tag), verifying a digest.
	getManifest(ctx context.Context, ref string, maxEntries int) (*fetched, error)
	// getBlob reads the blob desc describes, within MaxBlobSize, verifying size and digest.
	getBlob(ctx context.Context, desc v1.Descriptor) ([]byte, error)
	// referrers lists the manifests that refer to subject.
	referrers(ctx context.Context, subject name.Digest) ([]v1.Descriptor, bool, error)
}

// referrers lists the manifests that refer to subject: from the OCI 1.1 referrers API, or
// (mode legacy, or auto when the API answers 404) from the referrers tag index. At most
// MaxLayers entries are read in all. tagUsed says whether the tag index was the source.
func (c *client) referrers(ctx context.Context, subject name.Digest) (list []v1.Descriptor, tagUsed bool, err error) {
	where := "referrers of " + subject.String()
	if c.o.referrersMode != ReferrersLegacy {
		next := c.url("referrers/" + subject.DigestStr())
		apiFound := false
		for page := 0; next != ""; page++ {
			resp, err := c.do(ctx, request{method: http.MethodGet, url: next,
				header: http.Header{"Accept": {MediaTypeOCIIndex}}})
			if err != nil {
				return nil, false, fmt.Errorf("listing %s: %w", where, err)
			}
			if page == 0 && apiMissing(resp.StatusCode) {
				drain(resp)
				break
			}
			if resp.StatusCode != http.StatusOK {
				return nil, false, fmt.Errorf("listing %s: %w", where, errorFrom(resp))
			}
			apiFound = true
			left := c.o.limits.MaxLayers - len(list)
			m, _, _, err := readManifestBody(resp.Body, c.o.limits.MaxManifestSize, left, where)
			link := resp.Header.Get("Link")
			resp.Body.Close()
			if err != nil {
				var le *LimitError
				if errors.As(err, &le) {
					le.Limit = int64(c.o.limits.MaxLayers)
					le.What = "referrers"
				}
				return nil, false, err
			}
			list = append(list, m.Manifests...)
			next = ""
			if link != "" {
				if u := parseNextLink(link); u != "" {
					if next, err = c.resolveLocation(c.url(""), u); err != nil {
						return nil, false, err
					}
					if nu, err := url.Parse(next); err != nil || nu.Host != c.repo.RegistryStr() {
						return nil, false, fmt.Errorf("listing %s: the registry's next page %q is on another host", where, u)
					}
				}
			}
			if page > 100 {
				return nil, false, fmt.Errorf("listing %s: more than 100 pages: %w", where, ErrLimitExceeded)
			}
		}
		if apiFound {
			return list, false, nil
		}
		if c.o.referrersMode == ReferrersOCI11 {
			return nil, false, fmt.Errorf("listing %s: %w", where, ErrReferrersUnsupported)
		}
	}
	tag, _ := digestTagBase(subject.DigestStr())
	idx, err := c.readTagIndex(ctx, tag, c.o.limits.MaxLayers)
	if err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			le.What = "referrers"
		}
		return nil, true, fmt.Errorf("listing %s: %w", where, err)
	}
	return idx.manifests, true, nil
}

// apiMissing reports whether a referrers API answer means the registry lacks the API: 404 as
// the distribution spec says, and the 400, 405 and 501 some registries send for paths they do
// not know.
func apiMissing(status int) bool {
	switch status {
	case http.StatusNotFound, http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return false
}

// parseNextLink returns the target of a `Link: <url>; rel="next"` header.
func parseNextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		target, params, ok := strings.Cut(part, ";")
		if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
			continue
		}
		target = strings.TrimSpace(target)
		if strings.HasPrefix(target, "<") && strings.HasSuffix(target, ">") {
			return target[1 : len(target)-1]
		}
	}
	return ""
}

// bundleCandidate reports whether a referrer may be a Sigstore bundle: its artifactType is a
// bundle type, or it is absent or the empty config type (which some registries report
// instead of the manifest's artifactType), to be decided from the manifest itself.
func bundleCandidate(d v1.Descriptor) bool {
	if !d.MediaType.IsImage() {
		return false
	}
	return d.ArtifactType == "" || d.ArtifactType == MediaTypeEmpty || IsBundleMediaType(d.ArtifactType)
}

// ListAttached finds the artifacts of the given kinds (all when kinds is empty) attached to
// subject: bundles through the referrers API or the referrers tag index, and layers of the
// legacy .sig/.att/.sbom tags (as WithLegacyLookup says). It is bounded: more than MaxArtifacts
// artifacts fail with a LimitError before any is fetched, a manifest declaring more than
// MaxLayers layers fails before they are read, and a blob whose descriptor exceeds MaxBlobSize
// is never requested. Bundle manifests and blobs are fetched concurrently (WithConcurrency).
func ListAttached(ctx context.Context, subject name.Digest, kinds []Kind, opts ...Option) ([]Attached, error) {
	o := makeOptions(opts)
	want, err := wantKinds(kinds)
	if err != nil {
		return nil, err
	}
	c := newClient(subject.Context(), o)
	var bundles []Attached
	if want[KindSignature] || want[KindAttestation] {
		bundles, err = listBundles(ctx, c, o, subject, want)
		if err != nil {
			return nil, err
		}
	}
	var legacyKinds []Kind
	for _, k := range AllKinds() {
		if want[k] && (o.legacyLookup == LegacyAlways || (o.legacyLookup == LegacyIfNoBundles && len(bundles) == 0)) {
			legacyKinds = append(legacyKinds, k)
		}
	}
	legacy, err := listLegacy(ctx, c, o, subject, legacyKinds, o.limits.MaxArtifacts-len(bundles))
	if err != nil {
		return nil, err
	}
	return append(bundles, legacy...), nil
}

// listBundles fetches the bundles of the wanted kinds attached to subject.
func listBundles(ctx context.Context, c source, o *options, subject name.Digest, want map[Kind]bool) ([]Attached, error) {
	refs, _, err := c.referrers(ctx, subject)
	if err != nil {
		return nil, err
	}
	var cands []v1.Descriptor
	for _, d := range refs {
		if !bundleCandidate(d) {
			continue
		}
		// Registries that copy the manifest annotations into the referrers list let us skip
		// bundles of other kinds without fetching them.
		if d.Annotations[AnnotationBundleContent] != "" && !want[bundleKind(d.Annotations)] {
			continue
		}
		cands = append(cands, d)
	}
	if len(cands) > o.limits.MaxArtifacts {
		return nil, &LimitError{What: "attached artifacts", Limit: int64(o.limits.MaxArtifacts), Got: int64(len(cands)), Where: subject.String()}
	}
	out := make([]*Attached, len(cands))
	err = forEach(ctx, o.concurrency, len(cands), func(ctx context.Context, i int) error {
		a, err := fetchBundle(ctx, c, o, subject, cands[i])
		if err != nil {
			return err
		}
		if a != nil && want[a.Kind] {
			out[i] = a
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var res []Attached
	for _, a := range out {
		if a != nil {
			res = append(res, *a)
		}
	}
	return res, nil
}

// fetchBundle reads one referrer manifest and its bundle layer. It returns nil for a manifest
// that is not a Sigstore bundle for subject.
func fetchBundle(ctx context.Context, c source, o *options, subject name.Digest, d v1.Descriptor) (*Attached, error) {
	if d.Size > o.limits.MaxManifestSize {
		return nil, &LimitError{What: "manifest size", Limit: o.limits.MaxManifestSize, Got: d.Size, Where: subject.Context().Digest(d.Digest.String()).String()}
	}
	f, err := c.getManifest(ctx, d.Digest.String(), o.limits.MaxLayers)
	if err != nil {
		return nil, err
	}
	m := f.m
	if m.Subject == nil || m.Subject.Digest.String() != subject.DigestStr() {
		return nil, nil // listed in a tag index but not about this image
	}
	at := m.ArtifactType
	if at == "" && m.Config != nil {
		at = string(m.Config.MediaType)
	}
	var layer *v1.Descriptor
	for i := range m.Layers {
		if IsBundleMediaType(string(m.Layers[i].MediaType)) {
			layer = &m.Layers[i]
			break
		}
	}
	if !IsBundleMediaType(at) && layer == nil {
		return nil, nil // another tool's artifact
	}
	if layer == nil {
		return nil, fmt.Errorf("bundle manifest %s: %w: no layer with a Sigstore bundle media type", f.desc.Digest, ErrInvalidManifest)
	}
	if at == "" || at == MediaTypeEmpty {
		at = string(layer.MediaType)
	}
	b, err := c.getBlob(ctx, *layer)
	if err != nil {
		return nil, err
	}
	desc := f.desc
	desc.Annotations = m.Annotations
	return &Attached{Kind: bundleKind(m.Annotations), Layout: LayoutBundle, Descriptor: desc, ArtifactType: at, Annotations: m.Annotations, Bytes: b}, nil
}

// listLegacy reads the legacy tags of the given kinds and fetches their layers; more than
// budget layers in all fail before any layer is fetched.
func listLegacy(ctx context.Context, c source, o *options, subject name.Digest, kinds []Kind, budget int) ([]Attached, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	layers := make([][]v1.Descriptor, len(kinds))
	tags := make([]string, len(kinds))
	err := forEach(ctx, o.concurrency, len(kinds), func(ctx context.Context, i int) error {
		suffix, _ := kinds[i].suffix()
		tags[i] = o.tagPrefix + LegacyTag(subject, suffix).TagStr()
		var err error
		layers[i], err = readLegacy(ctx, c, o, tags[i])
		return err
	})
	if err != nil {
		return nil, err
	}
	type job struct {
		kind  Kind
		tag   string
		layer v1.Descriptor
	}
	var jobs []job
	for i, ls := range layers {
		for _, l := range ls {
			jobs = append(jobs, job{kinds[i], tags[i], l})
		}
	}
	if len(jobs) > budget {
		return nil, &LimitError{What: "attached artifacts", Limit: int64(o.limits.MaxArtifacts), Got: int64(len(jobs) + o.limits.MaxArtifacts - budget), Where: subject.String()}
	}
	for _, j := range jobs {
		if j.layer.Size > o.limits.MaxBlobSize {
			return nil, &LimitError{What: "blob size", Limit: o.limits.MaxBlobSize, Got: j.layer.Size, Where: subject.Context().Tag(j.tag).String() + " layer " + j.layer.Digest.String()}
		}
	}
	out := make([]Attached, len(jobs))
	err = forEach(ctx, o.concurrency, len(jobs), func(ctx context.Context, i int) error {
		b, err := c.getBlob(ctx, jobs[i].layer)
		if err != nil {
			return err
		}
		out[i] = Attached{Kind: jobs[i].kind, Layout: LayoutLegacy, Descriptor: jobs[i].layer, ArtifactType: string(jobs[i].layer.MediaType),
			Annotations: jobs[i].layer.Annotations, Bytes: b, Tag: jobs[i].tag}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// forEach runs fn for 0..n-1 on at most concurrency goroutines and returns the first error;
// the first error cancels the others.
func forEach(ctx context.Context, concurrency, n int, fn func(context.Context, int) error) error {
	if n == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	work := make(chan int)
	workers := min(max(concurrency, 1), n)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	return firstErr
}
