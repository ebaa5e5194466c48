package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cosign-like/cosign-like/internal/limitio"
)

// Annotations cosign-like puts on the index.json entries of an OCI image layout it saves.
const (
	// AnnotationRefName is the OCI layout's reference name: the image's tag, or the legacy tag
	// (sha256-<hex>.sig|.att|.sbom) of a legacy artifact.
	AnnotationRefName = "org.opencontainers.image.ref.name"
	// AnnotationLayoutRole says what an entry is: LayoutRoleImage, LayoutRoleBundle or
	// LayoutRoleLegacy.
	AnnotationLayoutRole = "dev.cosign-like.role"
	// AnnotationLayoutSubject is the digest of the image a bundle or legacy entry is attached to.
	AnnotationLayoutSubject = "dev.cosign-like.subject"

	// LayoutRoleImage marks the saved image (or index).
	LayoutRoleImage = "image"
	// LayoutRoleBundle marks a bundle manifest.
	LayoutRoleBundle = "bundle"
	// LayoutRoleLegacy marks a legacy .sig/.att/.sbom manifest.
	LayoutRoleLegacy = "legacy"
)

// layoutHost is the registry name used for subjects read from a layout, in messages only.
const layoutHost = "oci-layout.local"

var hexDigest = regexp.MustCompile(`^[a-f0-9]{64}$`)

// layoutSource reads attached artifacts from an OCI image layout directory, bounded by the
// same limits as registry reads.
type layoutSource struct {
	dir   string
	o     *options
	index *manifest
}

func openLayout(dir string, o *options) (*layoutSource, error) {
	marker, err := readFileBounded(filepath.Join(dir, "oci-layout"), 4096)
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI image layout: %w", dir, err)
	}
	var ol struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(marker, &ol); err != nil || ol.Version == "" {
		return nil, fmt.Errorf("%s/oci-layout: %w: want {\"imageLayoutVersion\": ...}", dir, ErrInvalidManifest)
	}
	f, err := os.Open(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI image layout: %w", dir, err)
	}
	defer f.Close()
	idx, _, _, err := readManifestBody(f, o.limits.MaxManifestSize, o.limits.MaxLayers, filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, err
	}
	return &layoutSource{dir: dir, o: o, index: idx}, nil
}

func readFileBounded(path string, max int64) ([]byte, error) {
	b, err := limitio.ReadFile(path, max)
	var tooLarge *limitio.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, &LimitError{What: "bytes", Limit: max, Where: path}
	}
	return b, err
}

func (l *layoutSource) blobPath(h v1.Hash) (string, error) {
	if h.Algorithm != "sha256" || !hexDigest.MatchString(h.Hex) {
		return "", fmt.Errorf("%w: digest %q", ErrInvalidManifest, h)
	}
	return filepath.Join(l.dir, "blobs", h.Algorithm, h.Hex), nil
}

// entry finds the index.json entry for ref: a digest, or a reference name.
func (l *layoutSource) entry(ref string) (*v1.Descriptor, error) {
	for i, d := range l.index.Manifests {
		if d.Digest.String() == ref || d.Annotations[AnnotationRefName] == ref {
			return &l.index.Manifests[i], nil
		}
	}
	return nil, fmt.Errorf("%s: %s: %w", l.dir, ref, ErrNotFound)
}

func (l *layoutSource) getManifest(_ context.Context, ref string, maxEntries int) (*fetched, error) {
	var h v1.Hash
	var mt types.MediaType
	if e, err := l.entry(ref); err == nil {
		h, mt = e.Digest, e.MediaType
	} else {
		parsed, perr := v1.NewHash(ref)
		if perr != nil {
			return nil, err
		}
		h = parsed
	}
	p, err := l.blobPath(h)
	if err != nil {
		return nil, err
	}
	b, err := readFileBounded(p, l.o.limits.MaxManifestSize)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: manifest %s: %w", l.dir, h, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: manifest %s: %w", l.dir, h, err)
	}
	m, raw, dig, err := readManifestBody(bytes.NewReader(b), l.o.limits.MaxManifestSize, maxEntries, p)
	if err != nil {
		return nil, err
	}
	if dig != h {
		return nil, fmt.Errorf("%s: file for %s holds %s: %w", l.dir, h, dig, ErrDigestMismatch)
	}
	if mt == "" {
		mt = types.MediaType(m.MediaType)
	}
	if !isManifestType(string(mt)) {
		return nil, fmt.Errorf("%s: manifest %s: %w: media type %q", l.dir, h, ErrInvalidManifest, mt)
	}
	return &fetched{m: m, raw: raw, desc: v1.Descriptor{MediaType: mt, Size: int64(len(raw)), Digest: h, ArtifactType: m.ArtifactType}}, nil
}

func (l *layoutSource) getBlob(_ context.Context, desc v1.Descriptor) ([]byte, error) {
	if desc.Size > l.o.limits.MaxBlobSize {
		return nil, &LimitError{What: "blob size", Limit: l.o.limits.MaxBlobSize, Got: desc.Size, Where: l.dir + "@" + desc.Digest.String()}
	}
	p, err := l.blobPath(desc.Digest)
	if err != nil {
		return nil, err
	}
	b, err := readFileBounded(p, desc.Size)
	if err != nil {
		return nil, fmt.Errorf("%s: blob %s: %w", l.dir, desc.Digest, err)
	}
	if int64(len(b)) != desc.Size || sha256Of(b) != desc.Digest {
		return nil, fmt.Errorf("%s: blob %s does not match its descriptor: %w", l.dir, desc.Digest, ErrDigestMismatch)
	}
	return b, nil
}

// referrers lists the layout's manifests whose subject is subject (by the annotation written
// at save time, or, lacking it, by reading each image manifest).
func (l *layoutSource) referrers(ctx context.Context, subject name.Digest) ([]v1.Descriptor, bool, error) {
	var out []v1.Descriptor
	for _, d := range l.index.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		switch d.Annotations[AnnotationLayoutRole] {
		case LayoutRoleBundle:
			if d.Annotations[AnnotationLayoutSubject] == subject.DigestStr() {
				out = append(out, d)
			}
		case LayoutRoleImage, LayoutRoleLegacy:
		default:
			f, err := l.getManifest(ctx, d.Digest.String(), l.o.limits.MaxLayers)
			if err != nil {
				return nil, false, err
			}
			if f.m.Subject != nil && f.m.Subject.Digest.String() == subject.DigestStr() {
				out = append(out, d)
			}
		}
	}
	return out, false, nil
}

// layoutSubject names a digest read from a layout for the listing functions.
func layoutSubject(h v1.Hash) (name.Digest, error) {
	return name.NewDigest(layoutHost + "/image@" + h.String())
}

// LayoutImages returns the image saved in the OCI layout at dir (the entry marked with
// AnnotationLayoutRole "image", or the only entry) and, when it is an index, the manifests it
// lists that the layout holds, as --recursive verification needs them.
func LayoutImages(dir string, opts ...Option) ([]v1.Descriptor, error) {
	o := makeOptions(opts)
	l, err := openLayout(dir, o)
	if err != nil {
		return nil, err
	}
	var img *v1.Descriptor
	for i, d := range l.index.Manifests {
		if d.Annotations[AnnotationLayoutRole] == LayoutRoleImage {
			if img != nil {
				return nil, fmt.Errorf("%s: %w: more than one image entry", dir, ErrInvalidManifest)
			}
			img = &l.index.Manifests[i]
		}
	}
	if img == nil {
		if len(l.index.Manifests) != 1 {
			return nil, fmt.Errorf("%s: no entry marked %s=%s and not exactly one entry: %w", dir, AnnotationLayoutRole, LayoutRoleImage, ErrNotFound)
		}
		img = &l.index.Manifests[0]
	}
	out := []v1.Descriptor{*img}
	if img.MediaType.IsIndex() {
		f, err := l.getManifest(context.Background(), img.Digest.String(), o.limits.MaxLayers)
		if err != nil {
			return nil, err
		}
		for _, c := range f.m.Manifests {
			if p, err := l.blobPath(c.Digest); err == nil {
				if _, err := os.Stat(p); err == nil && c.MediaType.IsImage() {
					out = append(out, v1.Descriptor{MediaType: c.MediaType, Size: c.Size, Digest: c.Digest, Platform: c.Platform})
				}
			}
		}
	}
	return out, nil
}

// ListAttachedLayout is ListAttached for an OCI image layout directory written by Save (for
// verify --local-image): the artifacts of the given kinds attached to subject, within the
// same limits. It reads only files under dir.
func ListAttachedLayout(ctx context.Context, dir string, subject v1.Hash, kinds []Kind, opts ...Option) ([]Attached, error) {
	o := makeOptions(opts)
	want, err := wantKinds(kinds)
	if err != nil {
		return nil, err
	}
	l, err := openLayout(dir, o)
	if err != nil {
		return nil, err
	}
	s, err := layoutSubject(subject)
	if err != nil {
		return nil, &InvalidInputError{What: "subject digest", Value: subject.String(), Reason: err.Error()}
	}
	var bundles []Attached
	if want[KindSignature] || want[KindAttestation] {
		if bundles, err = listBundles(ctx, l, o, s, want); err != nil {
			return nil, err
		}
	}
	var legacyKinds []Kind
	for _, k := range AllKinds() {
		if want[k] && (o.legacyLookup == LegacyAlways || (o.legacyLookup == LegacyIfNoBundles && len(bundles) == 0)) {
			legacyKinds = append(legacyKinds, k)
		}
	}
	legacy, err := listLegacy(ctx, l, o, s, legacyKinds, o.limits.MaxArtifacts-len(bundles))
	if err != nil {
		return nil, err
	}
	return append(bundles, legacy...), nil
}
