package cosign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/cosign-like/cosign-like/pkg/oci"
)

// maxLocalManifest bounds the image manifest read from a layout to check its digest.
const maxLocalManifest = oci.DefaultMaxManifestSize

// VerifyLocalImage verifies the signatures of the image saved in the OCI layout at dir (by
// oci.Save or `save`), reading nothing but the directory: the image manifest's bytes must hash
// to the digest the layout's index names, and its signatures are verified exactly as
// VerifyImage verifies them.
func VerifyLocalImage(ctx context.Context, dir string, o VerifyOptions) ([]VerifiedSignature, error) {
	if o.Verifier == nil {
		return nil, errors.New("verifying a local image: no verifier")
	}
	subject, h, err := localImage(dir, o.Registry)
	if err != nil {
		return nil, err
	}
	found, err := oci.ListAttachedLayout(ctx, dir, h, []oci.Kind{oci.KindSignature}, o.Registry...)
	if err != nil {
		return nil, err
	}
	return VerifyAttached(subject, found, o)
}

// VerifyLocalImageAttestations is VerifyImageAttestations for the image saved in the OCI layout
// at dir, reading nothing but the directory.
func VerifyLocalImageAttestations(ctx context.Context, dir string, o VerifyAttestationOptions) ([]VerifiedAttestation, error) {
	if o.Verifier == nil {
		return nil, errors.New("verifying local attestations: no verifier")
	}
	subject, h, err := localImage(dir, o.Registry)
	if err != nil {
		return nil, err
	}
	found, err := oci.ListAttachedLayout(ctx, dir, h, []oci.Kind{oci.KindAttestation}, o.Registry...)
	if err != nil {
		return nil, err
	}
	return VerifyAttestations(ctx, subject, found, o)
}

// localImage returns the image a layout holds, after checking that its manifest blob hashes to
// the digest the index names.
func localImage(dir string, opts []oci.Option) (name.Digest, v1.Hash, error) {
	imgs, err := oci.LayoutImages(dir, opts...)
	if err != nil {
		return name.Digest{}, v1.Hash{}, fmt.Errorf("reading the image layout %s: %w", dir, err)
	}
	h := imgs[0].Digest
	if h.Algorithm != "sha256" {
		return name.Digest{}, v1.Hash{}, fmt.Errorf("image layout %s: image digest %s is not sha256", dir, h)
	}
	f, err := os.Open(filepath.Join(dir, "blobs", "sha256", h.Hex))
	if err != nil {
		return name.Digest{}, v1.Hash{}, fmt.Errorf("image layout %s: reading the image manifest: %w", dir, err)
	}
	defer f.Close()
	sum := sha256.New()
	n, err := io.Copy(sum, io.LimitReader(f, maxLocalManifest+1))
	if err != nil {
		return name.Digest{}, v1.Hash{}, fmt.Errorf("image layout %s: reading the image manifest: %w", dir, err)
	}
	if n > maxLocalManifest {
		return name.Digest{}, v1.Hash{}, fmt.Errorf("image layout %s: image manifest larger than %d bytes: %w", dir, maxLocalManifest, oci.ErrLimitExceeded)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != h.Hex {
		return name.Digest{}, v1.Hash{}, fmt.Errorf("image layout %s: the image manifest hashes to sha256:%s, the index names %s: %w", dir, got, h, oci.ErrDigestMismatch)
	}
	subject, err := name.NewDigest("oci-layout.local/image@" + h.String())
	if err != nil {
		return name.Digest{}, v1.Hash{}, fmt.Errorf("image digest %s: %w", h, err)
	}
	return subject, h, nil
}
