package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// monolithicMax is the largest blob sent in the body of the upload POST. Registries that
// accept a single-request upload (the distribution spec's POST ?digest=) store it at once;
// others ignore the body and open an upload session, and the blob is sent again with PUT.
const monolithicMax = 1 << 20

// Blob is content to upload that need not be held in memory: its size, its sha256 digest, and a
// function that opens it from the start each time it is called (an upload may be sent more than
// once: a retried request, a registry that ignores a monolithic POST). Open must yield exactly
// Size bytes; the registry refuses content whose digest is not Digest.
type Blob struct {
	Size   int64
	Digest v1.Hash
	Open   func() (io.Reader, error)
}

// BytesBlob returns the Blob holding b.
func BytesBlob(b []byte) Blob {
	return Blob{Size: int64(len(b)), Digest: sha256Of(b), Open: func() (io.Reader, error) { return bytes.NewReader(b), nil }}
}

// sha256Of returns the sha256 digest of b.
func sha256Of(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// uploadBlob stores data in the repository in as few requests as the registry allows: one POST
// that asks to mount the blob from this same repository (so a blob already there, such as the
// empty config, is linked without upload) and carries the body for registries that accept a
// monolithic upload; then, only if the registry opened an upload session, one PUT.
func (c *client) uploadBlob(ctx context.Context, b Blob) (v1.Hash, error) {
	dig := b.Digest
	q := url.Values{}
	q.Set("mount", dig.String())
	q.Set("from", c.repo.RepositoryStr())
	r := request{method: http.MethodPost, push: true}
	if b.Size <= monolithicMax {
		q.Set("digest", dig.String())
		r.blob = &b
		r.header = http.Header{"Content-Type": {"application/octet-stream"}}
	}
	r.url = c.url("blobs/uploads/") + "?" + q.Encode()
	resp, err := c.do(ctx, r)
	if err != nil {
		return dig, fmt.Errorf("uploading blob %s: %w", dig, err)
	}
	if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusUnsupportedMediaType {
		// A registry that refuses the single-request form: open a plain upload session.
		drain(resp)
		r = request{method: http.MethodPost, url: c.url("blobs/uploads/"), push: true}
		if resp, err = c.do(ctx, r); err != nil {
			return dig, fmt.Errorf("uploading blob %s: %w", dig, err)
		}
	}
	switch resp.StatusCode {
	case http.StatusCreated:
		drain(resp)
		return dig, nil
	case http.StatusAccepted:
	default:
		return dig, fmt.Errorf("uploading blob %s: %w", dig, errorFrom(resp))
	}
	loc := resp.Header.Get("Location")
	drain(resp)
	if loc == "" {
		return dig, fmt.Errorf("uploading blob %s: registry opened an upload without a Location", dig)
	}
	put, err := c.resolveLocation(r.url, loc)
	if err != nil {
		return dig, fmt.Errorf("uploading blob %s: %w", dig, err)
	}
	sep := "?"
	if strings.Contains(put, "?") {
		sep = "&"
	}
	put += sep + "digest=" + url.QueryEscape(dig.String())
	resp, err = c.do(ctx, request{method: http.MethodPut, url: put, blob: &b, push: true,
		header: http.Header{"Content-Type": {"application/octet-stream"}}})
	if err != nil {
		return dig, fmt.Errorf("uploading blob %s: %w", dig, err)
	}
	if resp.StatusCode != http.StatusCreated {
		return dig, fmt.Errorf("uploading blob %s: %w", dig, errorFrom(resp))
	}
	drain(resp)
	return dig, nil
}

// getBlob fetches the blob desc describes. A descriptor whose size exceeds MaxBlobSize is
// refused before any request; the body must have the declared size and digest.
func (c *client) getBlob(ctx context.Context, desc v1.Descriptor) ([]byte, error) {
	where := c.repo.Name() + "@" + desc.Digest.String()
	if desc.Size > c.o.limits.MaxBlobSize {
		return nil, &LimitError{What: "blob size", Limit: c.o.limits.MaxBlobSize, Got: desc.Size, Where: where}
	}
	if desc.Size < 0 {
		return nil, fmt.Errorf("blob %s: %w: negative size %d", where, ErrInvalidManifest, desc.Size)
	}
	if desc.Digest.Algorithm != "sha256" {
		return nil, fmt.Errorf("blob %s: unsupported digest algorithm %q", where, desc.Digest.Algorithm)
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, url: c.url("blobs/" + desc.Digest.String())})
	if err != nil {
		return nil, fmt.Errorf("fetching blob %s: %w", where, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching blob %s: %w", where, errorFrom(resp))
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.Grow(int(min(desc.Size, 1<<20)))
	n, err := io.Copy(&buf, io.LimitReader(resp.Body, desc.Size+1))
	if err != nil {
		return nil, fmt.Errorf("fetching blob %s: %w", where, err)
	}
	if n != desc.Size {
		return nil, fmt.Errorf("blob %s: %w: got %d bytes or more, descriptor says %d", where, ErrDigestMismatch, n, desc.Size)
	}
	if got := sha256Of(buf.Bytes()); got != desc.Digest {
		return nil, fmt.Errorf("registry returned blob %s for %s: %w", got, desc.Digest, ErrDigestMismatch)
	}
	return buf.Bytes(), nil
}

// putManifest PUTs a manifest at ref (tag or digest) and returns the response headers.
func (c *client) putManifest(ctx context.Context, ref, mediaType string, body []byte, hdr http.Header) (http.Header, error) {
	h := http.Header{"Content-Type": {mediaType}}
	for k, v := range hdr {
		h[k] = v
	}
	resp, err := c.do(ctx, request{method: http.MethodPut, url: c.url("manifests/" + ref), body: body, push: true, header: h})
	if err != nil {
		return nil, fmt.Errorf("writing manifest %s%s%s: %w", c.repo.Name(), refSep(ref), ref, err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return resp.Header, fmt.Errorf("writing manifest %s%s%s: %w", c.repo.Name(), refSep(ref), ref, errorFrom(resp))
	}
	drain(resp)
	return resp.Header, nil
}

// deleteManifest deletes the manifest at ref (tag or digest).
func (c *client) deleteManifest(ctx context.Context, ref string) error {
	resp, err := c.do(ctx, request{method: http.MethodDelete, url: c.url("manifests/" + ref), push: true})
	if err != nil {
		return fmt.Errorf("deleting manifest %s%s%s: %w", c.repo.Name(), refSep(ref), ref, err)
	}
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("deleting manifest %s%s%s: %w", c.repo.Name(), refSep(ref), ref, errorFrom(resp))
	}
	drain(resp)
	return nil
}
