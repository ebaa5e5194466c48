package oci

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Remove deletes the artifacts of the given kinds (all when kinds is empty) attached to
// subject: bundle manifests (dropping them from the referrers tag index too, and deleting the
// index when it is left empty) and the legacy .sig/.att/.sbom tags. The image itself is left
// alone. It returns the references removed.
func Remove(ctx context.Context, subject name.Digest, kinds []Kind, opts ...Option) ([]string, error) {
	o := makeOptions(opts)
	want, err := wantKinds(kinds)
	if err != nil {
		return nil, err
	}
	c := newClient(subject.Context(), o)
	var removed []string
	if want[KindSignature] || want[KindAttestation] {
		refs, tagUsed, err := c.referrers(ctx, subject)
		if err != nil {
			return nil, fmt.Errorf("cleaning %s: %w", subject, err)
		}
		drop := map[string]bool{}
		for _, d := range refs {
			if !bundleCandidate(d) {
				continue
			}
			kind, ok, err := c.classifyReferrer(ctx, subject, d)
			if err != nil {
				return removed, fmt.Errorf("cleaning %s: %w", subject, err)
			}
			if !ok || !want[kind] {
				continue
			}
			if err := c.deleteManifest(ctx, d.Digest.String()); err != nil && !errors.Is(err, ErrNotFound) {
				return removed, fmt.Errorf("cleaning %s: %w", subject, err)
			}
			drop[d.Digest.String()] = true
			removed = append(removed, subject.Context().Digest(d.Digest.String()).String())
		}
		if len(drop) > 0 && (tagUsed || o.referrersMode == ReferrersAuto) {
			tag, _ := digestTagBase(subject.DigestStr())
			if _, err := c.removeFromTagIndex(ctx, tag, drop); err != nil {
				return removed, fmt.Errorf("cleaning %s: updating referrers tag %s: %w", subject, tag, err)
			}
		}
	}
	for _, k := range AllKinds() {
		if !want[k] {
			continue
		}
		suffix, _ := k.suffix()
		tag := LegacyTag(subject, suffix)
		f, err := c.getManifest(ctx, tag.TagStr(), o.limits.MaxLayers)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return removed, fmt.Errorf("cleaning %s: %w", subject, err)
		}
		if err := c.deleteTag(ctx, tag.TagStr(), f.desc.Digest.String()); err != nil {
			return removed, fmt.Errorf("cleaning %s: deleting %s: %w", subject, tag, err)
		}
		removed = append(removed, tag.String())
	}
	return removed, nil
}

// classifyReferrer says whether a referrer is a bundle about subject, and of which kind, from
// its annotations when the listing carries them, else from its manifest.
func (c *client) classifyReferrer(ctx context.Context, subject name.Digest, d v1.Descriptor) (Kind, bool, error) {
	if IsBundleMediaType(d.ArtifactType) && d.Annotations[AnnotationBundleContent] != "" {
		return bundleKind(d.Annotations), true, nil
	}
	f, err := c.getManifest(ctx, d.Digest.String(), c.o.limits.MaxLayers)
	if errors.Is(err, ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	m := f.m
	if m.Subject == nil || m.Subject.Digest.String() != subject.DigestStr() {
		return "", false, nil
	}
	at := m.ArtifactType
	if at == "" && m.Config != nil {
		at = string(m.Config.MediaType)
	}
	isBundle := IsBundleMediaType(at)
	for _, l := range m.Layers {
		isBundle = isBundle || IsBundleMediaType(string(l.MediaType))
	}
	if !isBundle {
		return "", false, nil
	}
	return bundleKind(m.Annotations), true, nil
}
