package testutil

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PushRandomImage pushes a small random image (two 512-byte layers) to host/repo:latest and
// returns its digest reference.
func PushRandomImage(tb testing.TB, host, repo string) name.Digest {
	tb.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		tb.Fatalf("making a random image: %v", err)
	}
	return PushImage(tb, host+"/"+repo+":latest", img)
}

// PushImage pushes img to the tag reference ref and returns its digest reference.
func PushImage(tb testing.TB, ref string, img v1.Image) name.Digest {
	tb.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		tb.Fatalf("parsing %s: %v", ref, err)
	}
	if err := remote.Write(tag, img); err != nil {
		tb.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		tb.Fatalf("digest of %s: %v", ref, err)
	}
	return tag.Context().Digest(d.String())
}

// PushRandomIndex pushes a random multi-platform index of n images to host/repo:latest and
// returns the index's digest reference and its children's.
func PushRandomIndex(tb testing.TB, host, repo string, n int) (name.Digest, []name.Digest) {
	tb.Helper()
	idx, err := random.Index(512, 1, int64(n))
	if err != nil {
		tb.Fatalf("making a random index: %v", err)
	}
	tag, err := name.NewTag(host + "/" + repo + ":latest")
	if err != nil {
		tb.Fatalf("parsing tag: %v", err)
	}
	if err := remote.WriteIndex(tag, idx); err != nil {
		tb.Fatalf("pushing index %s: %v", tag, err)
	}
	d, err := idx.Digest()
	if err != nil {
		tb.Fatalf("index digest: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		tb.Fatalf("index manifest: %v", err)
	}
	var children []name.Digest
	for _, m := range im.Manifests {
		children = append(children, tag.Context().Digest(m.Digest.String()))
	}
	return tag.Context().Digest(d.String()), children
}
