package oci

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// manifestAccept is the Accept header of manifest requests.
const manifestAccept = MediaTypeOCIManifest + ", " + MediaTypeOCIIndex + ", " +
	MediaTypeDockerManifest + ", " + MediaTypeDockerManifestList

// fetched is a manifest read from a registry.
type fetched struct {
	m    *manifest
	raw  []byte
	desc v1.Descriptor
	etag string
}

// getManifest GETs the manifest at ref (a tag or a digest) and parses it within the limits.
// For a digest reference the body must hash to that digest. A missing manifest is an error
// matching ErrNotFound.
func (c *client) getManifest(ctx context.Context, ref string, maxEntries int) (*fetched, error) {
	return c.getManifestAttempts(ctx, ref, maxEntries, 0)
}

// getManifestAttempts is getManifest with at least attempts attempts.
func (c *client) getManifestAttempts(ctx context.Context, ref string, maxEntries, attempts int) (*fetched, error) {
	where := c.repo.Name() + refSep(ref) + ref
	resp, err := c.do(ctx, request{method: http.MethodGet, url: c.url("manifests/" + ref),
		header: http.Header{"Accept": {manifestAccept}}, attempts: attempts})
	if err != nil {
		return nil, fmt.Errorf("fetching manifest %s: %w", where, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching manifest %s: %w", where, errorFrom(resp))
	}
	defer resp.Body.Close()
	if resp.ContentLength > c.o.limits.MaxManifestSize {
		return nil, fmt.Errorf("manifest %s: size %d exceeds the limit of %d bytes: %w", where, resp.ContentLength, c.o.limits.MaxManifestSize, ErrLimitExceeded)
	}
	m, raw, dig, err := readManifestBody(resp.Body, c.o.limits.MaxManifestSize, maxEntries, where)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(ref, "sha256:") && dig.String() != ref {
		return nil, fmt.Errorf("registry returned manifest %s for %s: %w", dig, ref, ErrDigestMismatch)
	}
	if hd := resp.Header.Get("Docker-Content-Digest"); hd != "" && strings.HasPrefix(hd, "sha256:") && hd != dig.String() {
		return nil, fmt.Errorf("registry returned manifest %s but labelled it %s: %w", dig, hd, ErrDigestMismatch)
	}
	mt := contentType(resp.Header.Get("Content-Type"))
	if !isManifestType(mt) {
		mt = m.MediaType
	}
	if m.MediaType != "" && mt != m.MediaType {
		return nil, fmt.Errorf("manifest %s: %w: served as %q but declares mediaType %q", where, ErrInvalidManifest, mt, m.MediaType)
	}
	if !isManifestType(mt) {
		return nil, fmt.Errorf("manifest %s: %w: unsupported media type %q", where, ErrInvalidManifest, mt)
	}
	return &fetched{
		m:    m,
		raw:  raw,
		desc: v1.Descriptor{MediaType: types.MediaType(mt), Size: int64(len(raw)), Digest: dig, ArtifactType: m.ArtifactType},
		etag: resp.Header.Get("ETag"),
	}, nil
}

func refSep(ref string) string {
	if strings.Contains(ref, ":") {
		return "@"
	}
	return ":"
}

func contentType(h string) string {
	mt, _, _ := strings.Cut(h, ";")
	return strings.TrimSpace(mt)
}

func isManifestType(mt string) bool {
	switch mt {
	case MediaTypeOCIManifest, MediaTypeOCIIndex, MediaTypeDockerManifest, MediaTypeDockerManifestList:
		return true
	}
	return false
}

// refString returns the tag or digest part of a reference.
func refString(ref name.Reference) string { return ref.Identifier() }

// Resolve turns a tag or digest reference into a digest reference and the manifest's
// descriptor, with one GET of the manifest. A registry that answers a digest reference with a
// manifest of another digest is refused (ErrDigestMismatch).
func Resolve(ctx context.Context, ref string, opts ...Option) (name.Digest, v1.Descriptor, error) {
	o := makeOptions(opts)
	r, err := parseReference(ref, o)
	if err != nil {
		return name.Digest{}, v1.Descriptor{}, err
	}
	c := newClient(r.Context(), o)
	f, err := c.getManifest(ctx, refString(r), o.limits.MaxLayers)
	if err != nil {
		return name.Digest{}, v1.Descriptor{}, fmt.Errorf("resolving %s: %w", ref, err)
	}
	d := r.Context().Digest(f.desc.Digest.String())
	return d, f.desc, nil
}

// parseReference parses a tag or digest reference (a missing tag means "latest", a missing
// registry Docker Hub, as docker and cosign read them).
func parseReference(ref string, o *options) (name.Reference, error) {
	var nopts []name.Option
	if o.plainHTTP {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		return nil, &InvalidInputError{What: "image reference", Value: ref, Reason: err.Error()}
	}
	return r, nil
}

// ResolveChildren returns the manifest at d and, when it is an index, every manifest it lists
// (recursively for nested indexes), each as a digest reference with its descriptor. The first
// element is d itself. Image children are described by the index, so only indexes are fetched.
// At most MaxLayers entries are read per index.
func ResolveChildren(ctx context.Context, d name.Digest, opts ...Option) ([]name.Digest, []v1.Descriptor, error) {
	o := makeOptions(opts)
	c := newClient(d.Context(), o)
	var refs []name.Digest
	var descs []v1.Descriptor
	seen := map[string]bool{}
	var walk func(dig string, depth int) error
	walk = func(dig string, depth int) error {
		if seen[dig] {
			return nil
		}
		seen[dig] = true
		if depth > 8 {
			return fmt.Errorf("%s: indexes nested deeper than 8 levels: %w", dig, ErrLimitExceeded)
		}
		if len(refs) > o.limits.MaxLayers {
			return &LimitError{What: "manifests in the index tree", Limit: int64(o.limits.MaxLayers), Where: d.String()}
		}
		f, err := c.getManifest(ctx, dig, o.limits.MaxLayers)
		if err != nil {
			return err
		}
		refs = append(refs, d.Context().Digest(dig))
		descs = append(descs, f.desc)
		if !f.desc.MediaType.IsIndex() {
			return nil
		}
		for _, child := range f.m.Manifests {
			switch {
			case child.MediaType.IsIndex():
				if err := walk(child.Digest.String(), depth+1); err != nil {
					return err
				}
			case child.MediaType.IsImage():
				// The index already holds the child's descriptor: no request needed.
				if !seen[child.Digest.String()] {
					seen[child.Digest.String()] = true
					refs = append(refs, d.Context().Digest(child.Digest.String()))
					descs = append(descs, v1.Descriptor{MediaType: child.MediaType, Size: child.Size, Digest: child.Digest})
				}
			}
		}
		return nil
	}
	if err := walk(d.DigestStr(), 0); err != nil {
		return nil, nil, fmt.Errorf("resolving children of %s: %w", d, err)
	}
	return refs, descs, nil
}
