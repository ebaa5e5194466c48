package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// AttachBundle attaches a Sigstore bundle to subject in the new layout: an OCI image manifest
// with artifactType application/vnd.dev.sigstore.bundle.v0.3+json, the empty config, one layer
// holding bundleJSON (titled sha256-<hex>.sigstore.json, as cosign names it), subject =
// subjectDesc, and annotations (the caller supplies
// dev.sigstore.bundle.content and dev.sigstore.bundle.predicateType; org.opencontainers.image.created
// is added when absent). The blobs are written first and the manifest last. In ReferrersAuto
// mode the registry's OCI-Subject answer header says whether it indexed the referrer; when it
// does not, the manifest is added to the referrers tag index (tag sha256-<hex>). If that update
// fails, the manifest just written is deleted again so no dangling referrer is left. It returns
// the descriptor of the bundle manifest.
func AttachBundle(ctx context.Context, subject name.Digest, subjectDesc v1.Descriptor, bundleJSON []byte, annotations map[string]string, opts ...Option) (v1.Descriptor, error) {
	if len(bundleJSON) == 0 || !json.Valid(bundleJSON) {
		return v1.Descriptor{}, &InvalidInputError{What: "bundle", Value: fmt.Sprintf("%d bytes", len(bundleJSON)), Reason: "not a JSON document"}
	}
	return AttachBundleBlob(ctx, subject, subjectDesc, BytesBlob(bundleJSON), annotations, opts...)
}

// AttachBundleBlob is AttachBundle for a bundle that is streamed to the registry rather than held
// in memory (a large attestation): the caller vouches that the blob is the bundle's JSON.
func AttachBundleBlob(ctx context.Context, subject name.Digest, subjectDesc v1.Descriptor, bundleJSON Blob, annotations map[string]string, opts ...Option) (v1.Descriptor, error) {
	o := makeOptions(opts)
	if err := checkSubject(subject, subjectDesc); err != nil {
		return v1.Descriptor{}, err
	}
	if bundleJSON.Size <= 0 || bundleJSON.Open == nil {
		return v1.Descriptor{}, &InvalidInputError{What: "bundle", Value: fmt.Sprintf("%d bytes", bundleJSON.Size), Reason: "empty"}
	}
	c := newClient(subject.Context(), o)
	ann := maps.Clone(annotations)
	if ann == nil {
		ann = map[string]string{}
	}
	if _, ok := ann[AnnotationCreated]; !ok {
		ann[AnnotationCreated] = o.now().UTC().Format(time.RFC3339)
	}

	empty := BytesBlob([]byte(emptyJSON))
	layerDigest, err := c.uploadBlobs(ctx, empty, bundleJSON)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("attaching bundle to %s: %w", subject, err)
	}
	mf := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  MediaTypeBundleV03,
		Config:        v1.Descriptor{MediaType: MediaTypeEmpty, Size: empty.Size, Digest: empty.Digest},
		Layers: []v1.Descriptor{{MediaType: MediaTypeBundleV03, Size: bundleJSON.Size, Digest: layerDigest[1],
			Annotations: map[string]string{AnnotationTitle: layerDigest[1].Algorithm + "-" + layerDigest[1].Hex + ".sigstore.json"}}},
		Subject:     &v1.Descriptor{MediaType: subjectDesc.MediaType, Size: subjectDesc.Size, Digest: subjectDesc.Digest},
		Annotations: ann,
	}
	body, err := json.Marshal(mf)
	if err != nil {
		return v1.Descriptor{}, err
	}
	desc := v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: int64(len(body)), Digest: sha256Of(body),
		ArtifactType: MediaTypeBundleV03, Annotations: ann}
	hdr, err := c.putManifestWithBlobs(ctx, desc.Digest.String(), body, empty, bundleJSON)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("attaching bundle to %s: %w", subject, err)
	}
	if err := c.linkReferrer(ctx, subject, desc, hdr); err != nil {
		return v1.Descriptor{}, fmt.Errorf("attaching bundle to %s: %w", subject, err)
	}
	return desc, nil
}

// linkReferrer makes the just-written referrer manifest desc discoverable from subject, as the
// referrers mode says: ReferrersAuto trusts the registry's OCI-Subject answer header and
// otherwise adds desc to the referrers tag index; ReferrersOCI11 requires that header;
// ReferrersLegacy always uses the tag index. When it fails, the manifest is deleted again so
// no unreachable referrer is left behind.
func (c *client) linkReferrer(ctx context.Context, subject name.Digest, desc v1.Descriptor, hdr http.Header) error {
	acknowledged := hdr.Get("OCI-Subject") == subject.DigestStr()
	var err error
	switch {
	case c.o.referrersMode == ReferrersOCI11 && !acknowledged:
		err = fmt.Errorf("the registry did not acknowledge the subject (no OCI-Subject answer header); use referrers mode auto or legacy: %w", ErrReferrersUnsupported)
	case c.o.referrersMode == ReferrersLegacy || !acknowledged:
		tag, _ := digestTagBase(subject.DigestStr())
		if err = c.addToTagIndex(ctx, tag, desc); err != nil {
			err = fmt.Errorf("updating referrers tag %s: %w", tag, err)
		}
	}
	if err == nil {
		return nil
	}
	if derr := c.deleteManifest(context.WithoutCancel(ctx), desc.Digest.String()); derr != nil {
		return fmt.Errorf("%w (and removing the unreferenced manifest %s failed: %v)", err, desc.Digest, derr)
	}
	return err
}

// putManifestWithBlobs PUTs an image manifest whose blobs were just uploaded. A registry may
// briefly not see a blob that a concurrent writer is linking into the repository at the same
// moment (distribution 2.8's filesystem storage rewrites the link file in place), and answers
// MANIFEST_BLOB_UNKNOWN: the blobs are then uploaded again and the PUT retried a few times.
func (c *client) putManifestWithBlobs(ctx context.Context, ref string, body []byte, blobs ...Blob) (http.Header, error) {
	for attempt := 1; ; attempt++ {
		hdr, err := c.putManifest(ctx, ref, MediaTypeOCIManifest, body, nil)
		var re *RegistryError
		if err == nil || attempt >= 4 || !errors.As(err, &re) || !slices.Contains(re.Codes, "MANIFEST_BLOB_UNKNOWN") {
			return hdr, err
		}
		if err := sleepCtx(ctx, randomDelay(time.Duration(attempt)*50*time.Millisecond)); err != nil {
			return nil, err
		}
		if _, err := c.uploadBlobs(ctx, blobs...); err != nil {
			return nil, err
		}
	}
}

// uploadBlobs uploads the blobs concurrently and returns their digests in order.
func (c *client) uploadBlobs(ctx context.Context, blobs ...Blob) ([]v1.Hash, error) {
	out := make([]v1.Hash, len(blobs))
	errs := make([]error, len(blobs))
	var wg sync.WaitGroup
	for i, b := range blobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = c.uploadBlob(ctx, b)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// AttachLegacy appends one layer (payload, with mediaType and the layer annotations) to cosign's
// legacy tag <repo>:sha256-<hex>.sig|.att|.sbom for kind, creating the tag if absent. Existing
// layers are kept; a layer with the same digest and annotations is not added twice. The tag is
// confirmed by reading it back (twice, the second time after a random delay) and rewritten if a
// concurrent writer dropped the layer.
func AttachLegacy(ctx context.Context, subject name.Digest, kind Kind, payload []byte, mediaType string, annotations map[string]string, opts ...Option) error {
	return AttachLegacyBlob(ctx, subject, kind, BytesBlob(payload), mediaType, annotations, opts...)
}

// AttachLegacyBlob is AttachLegacy for a layer that is streamed to the registry rather than held
// in memory (a large attestation envelope).
func AttachLegacyBlob(ctx context.Context, subject name.Digest, kind Kind, payload Blob, mediaType string, annotations map[string]string, opts ...Option) error {
	o := makeOptions(opts)
	suffix, err := kind.suffix()
	if err != nil {
		return err
	}
	if payload.Size <= 0 || payload.Open == nil {
		return &InvalidInputError{What: "payload", Value: "", Reason: "empty"}
	}
	if mediaType == "" {
		return &InvalidInputError{What: "layer media type", Value: "", Reason: "empty"}
	}
	c := newClient(subject.Context(), o)
	tag := LegacyTag(subject, suffix).TagStr()
	layer := v1.Descriptor{MediaType: types.MediaType(mediaType), Size: payload.Size, Digest: payload.Digest, Annotations: maps.Clone(annotations)}

	if _, err := c.uploadBlob(ctx, payload); err != nil {
		return fmt.Errorf("attaching to %s: %w", tag, err)
	}
	readAt := time.Now()
	cur, err := c.readLegacyRacing(ctx, tag)
	if err != nil {
		return fmt.Errorf("attaching to %s: %w", tag, err)
	}
	window := time.Duration(0)
	for round := 0; round < maxConfirmRounds; round++ {
		if !hasLayer(cur, layer) {
			if err := c.writeLegacy(ctx, tag, append(append([]v1.Descriptor{}, cur...), layer)); err != nil {
				return fmt.Errorf("attaching to %s: %w", tag, err)
			}
			window = max(window, time.Since(readAt))
		}
		readAt = time.Now()
		if cur, err = c.readLegacyRacing(ctx, tag); err != nil {
			return fmt.Errorf("attaching to %s: %w", tag, err)
		}
		if hasLayer(cur, layer) {
			if err := sleepCtx(ctx, confirmDelay(o.confirmDelay, window)); err != nil {
				return err
			}
			readAt = time.Now()
			if cur, err = c.readLegacyRacing(ctx, tag); err != nil {
				return fmt.Errorf("attaching to %s: %w", tag, err)
			}
			if hasLayer(cur, layer) {
				return nil
			}
		}
		if err := sleepCtx(ctx, lostBackoff(round, window)); err != nil {
			return err
		}
		readAt = time.Now()
		if cur, err = c.readLegacyRacing(ctx, tag); err != nil {
			return fmt.Errorf("attaching to %s: %w", tag, err)
		}
	}
	return fmt.Errorf("attaching to %s: layer kept being overwritten by concurrent writers after %d attempts", tag, maxConfirmRounds)
}

func hasLayer(layers []v1.Descriptor, l v1.Descriptor) bool {
	for _, x := range layers {
		if x.Digest == l.Digest && x.MediaType == l.MediaType && maps.Equal(x.Annotations, l.Annotations) {
			return true
		}
	}
	return false
}

// readLegacy returns the layers of the legacy tag, none when it is absent.
func readLegacy(ctx context.Context, c source, o *options, tag string) ([]v1.Descriptor, error) {
	f, err := c.getManifest(ctx, tag, o.limits.MaxLayers)
	return legacyLayers(f, err, tag)
}

// readLegacyRacing is readLegacy for the read-modify-write of AttachLegacy, where reads race
// with concurrent writers of the same tag and get more attempts.
func (c *client) readLegacyRacing(ctx context.Context, tag string) ([]v1.Descriptor, error) {
	f, err := c.getManifestAttempts(ctx, tag, c.o.limits.MaxLayers, racingReadAttempts)
	return legacyLayers(f, err, tag)
}

func legacyLayers(f *fetched, err error, tag string) ([]v1.Descriptor, error) {
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if f.desc.MediaType.IsIndex() {
		return nil, fmt.Errorf("legacy tag %s holds an index, not an image: %w", tag, ErrInvalidManifest)
	}
	return f.m.Layers, nil
}

// writeLegacy writes an image manifest with the given layers at tag, with the image config
// cosign writes (rootfs diff IDs equal to the layer digests, the layers being uncompressed).
func (c *client) writeLegacy(ctx context.Context, tag string, layers []v1.Descriptor) error {
	cfg := v1.ConfigFile{RootFS: v1.RootFS{Type: "layers"}}
	for _, l := range layers {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.Digest)
		cfg.History = append(cfg.History, v1.History{})
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgBlob := BytesBlob(cfgJSON)
	cfgDigest, err := c.uploadBlob(ctx, cfgBlob)
	if err != nil {
		return err
	}
	mf := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: MediaTypeOCIConfig, Size: int64(len(cfgJSON)), Digest: cfgDigest},
		Layers:        layers,
	}
	body, err := json.Marshal(mf)
	if err != nil {
		return err
	}
	_, err = c.putManifestWithBlobs(ctx, tag, body, cfgBlob)
	return err
}
