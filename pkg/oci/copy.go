package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// remoteOptions turns our options into go-containerregistry remote options (used to move
// images, whose layers may be large and are streamed by go-containerregistry).
func (o *options) remoteOptions(ctx context.Context) []remote.Option {
	ro := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(o.transport),
		remote.WithUserAgent(o.userAgent),
		remote.WithRetryBackoff(remote.Backoff{Duration: o.retry.Backoff, Factor: 2, Steps: o.retry.Attempts}),
		remote.WithRetryStatusCodes(o.retry.StatusCodes...),
		remote.WithRetryPredicate(o.retryPredicate(ctx)),
		remote.WithJobs(o.concurrency),
	}
	if o.auth != nil {
		ro = append(ro, remote.WithAuth(o.auth))
	} else {
		ro = append(ro, remote.WithAuthFromKeychain(o.keychain))
	}
	return ro
}

// retryPredicate is the rule by which go-containerregistry retries a failed request or
// upload: a transient failure, as its own default rule judges, while ctx lasts. Its waits
// between attempts do not watch ctx, so no retry is begun when ctx's deadline would pass
// during the longest of them.
func (o *options) retryPredicate(ctx context.Context) func(error) bool {
	longest := o.retry.Backoff << max(o.retry.Attempts-2, 0)
	return func(err error) bool {
		return ctx.Err() == nil && fitsBefore(ctx, longest) && transient(err)
	}
}

// transient reports whether err is a failure go-containerregistry retries by default: a
// temporary error that is not a passed deadline, or a connection cut short.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if t, ok := err.(interface{ Temporary() bool }); ok && t.Temporary() {
		return true
	}
	for _, cut := range []error{io.ErrUnexpectedEOF, io.EOF, syscall.EPIPE, syscall.ECONNRESET, net.ErrClosed} {
		if errors.Is(err, cut) {
			return true
		}
	}
	return false
}

// Copy copies the image or index at src to dst with every artifact attached to it (and, for
// an index, to its child manifests), in both layouts, keeping all digests: bundles are
// re-attached on the destination through its referrers API or the referrers tag schema, as
// the referrers mode and the destination registry decide; legacy tags are copied as they are.
// dst is a tag reference (or a digest reference equal to src's digest). It returns the digest
// written and the artifacts copied.
func Copy(ctx context.Context, src, dst string, opts ...Option) (name.Digest, []string, error) {
	o := makeOptions(opts)
	d, desc, err := Resolve(ctx, src, opts...)
	if err != nil {
		return name.Digest{}, nil, fmt.Errorf("copying %s: %w", src, err)
	}
	dstRef, err := parseReference(dst, o)
	if err != nil {
		return name.Digest{}, nil, err
	}
	if dd, ok := dstRef.(name.Digest); ok && dd.DigestStr() != d.DigestStr() {
		return name.Digest{}, nil, &InvalidInputError{What: "destination", Value: dst, Reason: "its digest differs from the source's " + d.DigestStr()}
	}
	ro := o.remoteOptions(ctx)
	rd, err := remote.Get(d, ro...)
	if err != nil {
		return name.Digest{}, nil, fmt.Errorf("copying %s: %w", d, err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := rd.ImageIndex()
		if err == nil {
			err = remote.WriteIndex(dstRef, idx, ro...)
		}
		if err != nil {
			return name.Digest{}, nil, fmt.Errorf("copying index %s to %s: %w", d, dstRef, err)
		}
	} else {
		img, err := rd.Image()
		if err == nil {
			err = remote.Write(dstRef, img, ro...)
		}
		if err != nil {
			return name.Digest{}, nil, fmt.Errorf("copying image %s to %s: %w", d, dstRef, err)
		}
	}
	out := dstRef.Context().Digest(d.DigestStr())
	subjects, err := subjectsOf(ctx, d, desc, opts)
	if err != nil {
		return out, nil, fmt.Errorf("copying %s: %w", src, err)
	}
	srcC := newClient(d.Context(), o)
	dstSink := registrySink{c: newClient(dstRef.Context(), o)}
	var copied []string
	for _, s := range subjects {
		got, err := transferAttached(ctx, srcC, dstSink, o, s)
		for _, g := range got {
			copied = append(copied, dstRef.Context().Name()+g)
		}
		if err != nil {
			return out, copied, fmt.Errorf("copying artifacts attached to %s: %w", s, err)
		}
	}
	return out, copied, nil
}

// Save writes the image or index at ref, with every artifact attached to it (and to an
// index's children) in both layouts, into an OCI image layout at dir (created if absent).
// The image's index.json entry carries AnnotationLayoutRole "image" and, for a tag reference,
// AnnotationRefName; bundles and legacy manifests carry their role and subject digest, legacy
// ones their tag as AnnotationRefName. It returns the image's digest and the artifacts saved.
func Save(ctx context.Context, ref, dir string, opts ...Option) (name.Digest, []string, error) {
	o := makeOptions(opts)
	d, desc, err := Resolve(ctx, ref, opts...)
	if err != nil {
		return name.Digest{}, nil, fmt.Errorf("saving %s: %w", ref, err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return d, nil, fmt.Errorf("saving %s: %w", ref, err)
		}
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return d, nil, fmt.Errorf("saving %s: creating layout %s: %w", ref, dir, err)
		}
	}
	ann := map[string]string{AnnotationLayoutRole: LayoutRoleImage}
	if r, err := parseReference(ref, o); err == nil {
		if t, ok := r.(name.Tag); ok {
			ann[AnnotationRefName] = t.TagStr()
		}
	}
	rd, err := remote.Get(d, o.remoteOptions(ctx)...)
	if err != nil {
		return d, nil, fmt.Errorf("saving %s: %w", d, err)
	}
	if err := p.RemoveDescriptors(matchRole(LayoutRoleImage)); err != nil {
		return d, nil, err
	}
	if desc.MediaType.IsIndex() {
		idx, err := rd.ImageIndex()
		if err == nil {
			err = p.AppendIndex(idx, layout.WithAnnotations(ann))
		}
		if err != nil {
			return d, nil, fmt.Errorf("saving index %s: %w", d, err)
		}
	} else {
		img, err := rd.Image()
		if err == nil {
			err = p.AppendImage(img, layout.WithAnnotations(ann))
		}
		if err != nil {
			return d, nil, fmt.Errorf("saving image %s: %w", d, err)
		}
	}
	subjects, err := subjectsOf(ctx, d, desc, opts)
	if err != nil {
		return d, nil, fmt.Errorf("saving %s: %w", ref, err)
	}
	c := newClient(d.Context(), o)
	var saved []string
	for _, s := range subjects {
		got, err := transferAttached(ctx, c, layoutSink{p: p}, o, s)
		saved = append(saved, got...)
		if err != nil {
			return d, saved, fmt.Errorf("saving artifacts attached to %s: %w", s, err)
		}
	}
	return d, saved, nil
}

// Load pushes the image saved in the OCI layout at dir to dst (a tag reference), with every
// artifact saved beside it: bundles are re-attached as the referrers mode and the registry
// decide, legacy manifests are pushed to their tags. Digests are kept. It returns the digest
// pushed and the artifacts loaded.
func Load(ctx context.Context, dir, dst string, opts ...Option) (name.Digest, []string, error) {
	o := makeOptions(opts)
	imgs, err := LayoutImages(dir, opts...)
	if err != nil {
		return name.Digest{}, nil, fmt.Errorf("loading %s: %w", dir, err)
	}
	top := imgs[0]
	dstRef, err := parseReference(dst, o)
	if err != nil {
		return name.Digest{}, nil, err
	}
	if dd, ok := dstRef.(name.Digest); ok && dd.DigestStr() != top.Digest.String() {
		return name.Digest{}, nil, &InvalidInputError{What: "destination", Value: dst, Reason: "its digest differs from the saved image's " + top.Digest.String()}
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return name.Digest{}, nil, fmt.Errorf("loading %s: %w", dir, err)
	}
	root, err := p.ImageIndex()
	if err != nil {
		return name.Digest{}, nil, fmt.Errorf("loading %s: %w", dir, err)
	}
	ro := o.remoteOptions(ctx)
	if top.MediaType.IsIndex() {
		idx, err := root.ImageIndex(top.Digest)
		if err == nil {
			err = remote.WriteIndex(dstRef, idx, ro...)
		}
		if err != nil {
			return name.Digest{}, nil, fmt.Errorf("loading index %s from %s: %w", top.Digest, dir, err)
		}
	} else {
		img, err := root.Image(top.Digest)
		if err == nil {
			err = remote.Write(dstRef, img, ro...)
		}
		if err != nil {
			return name.Digest{}, nil, fmt.Errorf("loading image %s from %s: %w", top.Digest, dir, err)
		}
	}
	out := dstRef.Context().Digest(top.Digest.String())
	l, err := openLayout(dir, o)
	if err != nil {
		return out, nil, err
	}
	dstSink := registrySink{c: newClient(dstRef.Context(), o)}
	var loaded []string
	for _, img := range imgs {
		s, err := layoutSubject(img.Digest)
		if err != nil {
			return out, loaded, err
		}
		got, err := transferAttached(ctx, l, dstSink, o, s)
		for _, g := range got {
			loaded = append(loaded, dstRef.Context().Name()+g)
		}
		if err != nil {
			return out, loaded, fmt.Errorf("loading artifacts attached to %s: %w", img.Digest, err)
		}
	}
	return out, loaded, nil
}

func matchRole(role string) func(v1.Descriptor) bool {
	return func(d v1.Descriptor) bool { return d.Annotations[AnnotationLayoutRole] == role }
}
