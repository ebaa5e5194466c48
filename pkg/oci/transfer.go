package oci

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// sink is where attached artifacts are written: a registry repository or an OCI layout.
type sink interface {
	// putBlob stores a blob whose digest the caller has verified.
	putBlob(ctx context.Context, data []byte) error
	// putBundle stores a bundle manifest (raw bytes, digest kept) attached to subject.
	putBundle(ctx context.Context, subject name.Digest, f *fetched) error
	// putLegacy stores a legacy signature manifest (raw bytes) under its tag.
	putLegacy(ctx context.Context, subject name.Digest, tag string, f *fetched) error
}

// transferAttached copies every artifact attached to subject from src to dst, in both layouts,
// keeping digests. It returns what it copied ("@sha256:..." for bundles, tags for legacy).
func transferAttached(ctx context.Context, src source, dst sink, o *options, subject name.Digest) ([]string, error) {
	var copied []string
	refs, _, err := src.referrers(ctx, subject)
	if err != nil {
		return nil, err
	}
	var cands []v1.Descriptor
	for _, d := range refs {
		if bundleCandidate(d) {
			cands = append(cands, d)
		}
	}
	if len(cands) > o.limits.MaxArtifacts {
		return nil, &LimitError{What: "attached artifacts", Limit: int64(o.limits.MaxArtifacts), Got: int64(len(cands)), Where: subject.String()}
	}
	for _, d := range cands {
		f, err := src.getManifest(ctx, d.Digest.String(), o.limits.MaxLayers)
		if err != nil {
			return copied, err
		}
		if f.m.Subject == nil || f.m.Subject.Digest.String() != subject.DigestStr() {
			continue
		}
		if err := copyBlobs(ctx, src, dst, f); err != nil {
			return copied, err
		}
		if err := dst.putBundle(ctx, subject, f); err != nil {
			return copied, err
		}
		copied = append(copied, "@"+f.desc.Digest.String())
	}
	for _, k := range AllKinds() {
		suffix, _ := k.suffix()
		tag := LegacyTag(subject, suffix).TagStr()
		f, err := src.getManifest(ctx, tag, o.limits.MaxLayers)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return copied, err
		}
		if err := copyBlobs(ctx, src, dst, f); err != nil {
			return copied, err
		}
		if err := dst.putLegacy(ctx, subject, tag, f); err != nil {
			return copied, err
		}
		copied = append(copied, ":"+tag)
	}
	return copied, nil
}

func copyBlobs(ctx context.Context, src source, dst sink, f *fetched) error {
	var blobs []v1.Descriptor
	if f.m.Config != nil {
		blobs = append(blobs, *f.m.Config)
	}
	blobs = append(blobs, f.m.Layers...)
	for _, b := range blobs {
		data, err := src.getBlob(ctx, b)
		if err != nil {
			return err
		}
		if err := dst.putBlob(ctx, data); err != nil {
			return err
		}
	}
	return nil
}

// registrySink writes artifacts to a registry repository.
type registrySink struct{ c *client }

func (r registrySink) putBlob(ctx context.Context, data []byte) error {
	_, err := r.c.uploadBlob(ctx, BytesBlob(data))
	return err
}

func (r registrySink) putBundle(ctx context.Context, subject name.Digest, f *fetched) error {
	hdr, err := r.c.putManifest(ctx, f.desc.Digest.String(), string(f.desc.MediaType), f.raw, nil)
	if err != nil {
		return err
	}
	entry := v1.Descriptor{MediaType: f.desc.MediaType, Size: f.desc.Size, Digest: f.desc.Digest,
		ArtifactType: f.m.ArtifactType, Annotations: maps.Clone(f.m.Annotations)}
	if entry.ArtifactType == "" && f.m.Config != nil {
		entry.ArtifactType = string(f.m.Config.MediaType)
	}
	return r.c.linkReferrer(ctx, subject, entry, hdr)
}

func (r registrySink) putLegacy(ctx context.Context, _ name.Digest, tag string, f *fetched) error {
	_, err := r.c.putManifest(ctx, tag, string(f.desc.MediaType), f.raw, nil)
	return err
}

// layoutSink writes artifacts into an OCI image layout.
type layoutSink struct{ p layout.Path }

func (l layoutSink) putBlob(_ context.Context, data []byte) error {
	return l.p.WriteBlob(sha256Of(data), io.NopCloser(bytes.NewReader(data)))
}

func (l layoutSink) putEntry(f *fetched, ann map[string]string) error {
	if err := l.putBlob(context.Background(), f.raw); err != nil {
		return err
	}
	// Replace an earlier copy of the same entry: a legacy tag by its name (the same manifest
	// bytes can sit under the tags of several images), a bundle by its digest.
	ref := ann[AnnotationRefName]
	same := func(d v1.Descriptor) bool {
		if ref != "" {
			return d.Annotations[AnnotationRefName] == ref
		}
		return d.Digest == f.desc.Digest && d.Annotations[AnnotationRefName] == ""
	}
	if err := l.p.RemoveDescriptors(same); err != nil {
		return err
	}
	d := v1.Descriptor{MediaType: f.desc.MediaType, Size: f.desc.Size, Digest: f.desc.Digest, ArtifactType: f.m.ArtifactType, Annotations: ann}
	return l.p.AppendDescriptor(d)
}

func (l layoutSink) putBundle(_ context.Context, subject name.Digest, f *fetched) error {
	ann := maps.Clone(f.m.Annotations)
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AnnotationLayoutRole] = LayoutRoleBundle
	ann[AnnotationLayoutSubject] = subject.DigestStr()
	return l.putEntry(f, ann)
}

func (l layoutSink) putLegacy(_ context.Context, subject name.Digest, tag string, f *fetched) error {
	return l.putEntry(f, map[string]string{AnnotationLayoutRole: LayoutRoleLegacy, AnnotationLayoutSubject: subject.DigestStr(), AnnotationRefName: tag})
}

// subjectsOf returns d and, for an index, its child manifests: the images artifacts may be
// attached to.
func subjectsOf(ctx context.Context, d name.Digest, desc v1.Descriptor, opts []Option) ([]name.Digest, error) {
	if !desc.MediaType.IsIndex() {
		return []name.Digest{d}, nil
	}
	refs, _, err := ResolveChildren(ctx, d, opts...)
	if err != nil {
		return nil, err
	}
	return refs, nil
}
