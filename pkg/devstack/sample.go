package devstack

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// SampleImage returns a small deterministic image whose one layer holds text.
func SampleImage(text string) (v1.Image, error) {
	layer := static.NewLayer([]byte(text), types.OCILayer)
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	return mutate.ConfigMediaType(img, types.OCIConfigJSON), nil
}

// PushSample pushes a small image to ref; with platforms, an index with one image per platform
// ("linux/amd64"). It returns the digest reference of what it pushed.
func PushSample(ctx context.Context, ref string, platforms []string, opts ...remote.Option) (name.Digest, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("image reference %q: %w", ref, err)
	}
	opts = append(opts, remote.WithContext(ctx))
	if len(platforms) == 0 {
		img, err := SampleImage("hello from cosign-like\n")
		if err != nil {
			return name.Digest{}, err
		}
		if err := remote.Write(r, img, opts...); err != nil {
			return name.Digest{}, fmt.Errorf("pushing %s: %w", ref, err)
		}
		d, err := img.Digest()
		if err != nil {
			return name.Digest{}, err
		}
		return r.Context().Digest(d.String()), nil
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		plat, err := v1.ParsePlatform(p)
		if err != nil {
			return name.Digest{}, fmt.Errorf("platform %q: %w", p, err)
		}
		img, err := SampleImage("hello from cosign-like on " + p + "\n")
		if err != nil {
			return name.Digest{}, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: plat}})
	}
	if err := remote.WriteIndex(r, idx, opts...); err != nil {
		return name.Digest{}, fmt.Errorf("pushing %s: %w", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return name.Digest{}, err
	}
	return r.Context().Digest(d.String()), nil
}
