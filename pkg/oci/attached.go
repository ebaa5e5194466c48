package oci

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Kind is what an attached artifact is.
type Kind string

const (
	// KindSignature is a signature: a bundle whose content is a message signature or whose
	// predicate type is https://sigstore.dev/cosign/sign/v1, or a layer of a legacy .sig tag.
	KindSignature Kind = "signature"
	// KindAttestation is any other bundle, or a layer of a legacy .att tag.
	KindAttestation Kind = "attestation"
	// KindSBOM is a layer of a legacy .sbom tag.
	KindSBOM Kind = "sbom"
)

// AllKinds lists every kind, in the order ListAttached reports them.
func AllKinds() []Kind { return []Kind{KindSignature, KindAttestation, KindSBOM} }

// ParseKind parses "signature", "attestation" or "sbom".
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case KindSignature, KindAttestation, KindSBOM:
		return k, nil
	}
	return "", &InvalidInputError{What: "artifact kind", Value: s, Reason: "want signature, attestation or sbom"}
}

// suffix returns the legacy tag suffix of k.
func (k Kind) suffix() (string, error) {
	switch k {
	case KindSignature:
		return SuffixSignature, nil
	case KindAttestation:
		return SuffixAttestation, nil
	case KindSBOM:
		return SuffixSBOM, nil
	}
	return "", &InvalidInputError{What: "artifact kind", Value: string(k), Reason: "want signature, attestation or sbom"}
}

// Layout is where an attached artifact lives.
type Layout string

const (
	// LayoutBundle is a Sigstore bundle in its own manifest whose subject is the image (OCI 1.1
	// referrers API or referrers tag schema).
	LayoutBundle Layout = "bundle"
	// LayoutLegacy is a layer of cosign's legacy <repo>:sha256-<hex>.sig|.att|.sbom tag.
	LayoutLegacy Layout = "legacy"
)

// Attached is one artifact found beside an image, in either layout.
type Attached struct {
	// Kind says what it is.
	Kind Kind
	// Layout says where it was found.
	Layout Layout
	// Descriptor is the bundle's manifest (new layout) or the payload layer (legacy layout).
	Descriptor v1.Descriptor
	// ArtifactType is the manifest's artifactType (new layout) or the layer's media type (legacy).
	ArtifactType string
	// Annotations are the manifest's annotations (new layout) or the layer's (legacy).
	Annotations map[string]string
	// Bytes is the bundle JSON (new layout) or the layer payload (legacy layout).
	Bytes []byte
	// Tag is the legacy tag the layer was found under (legacy layout only).
	Tag string
}

// bundleKind classifies a bundle manifest from its annotations.
func bundleKind(ann map[string]string) Kind {
	if ann[AnnotationBundleContent] == BundleContentMessageSignature || ann[AnnotationBundlePredicateType] == PredicateTypeCosignSign {
		return KindSignature
	}
	return KindAttestation
}

// digestTagBase returns "sha256-<hex>" for a digest, checking its form.
func digestTagBase(dig string) (string, error) {
	alg, hexPart, ok := strings.Cut(dig, ":")
	if !ok || alg == "" || hexPart == "" {
		return "", &InvalidInputError{What: "digest", Value: dig, Reason: "want <algorithm>:<hex>"}
	}
	return alg + "-" + hexPart, nil
}

// LegacyTag returns cosign's legacy tag for subject with the given suffix ("sig", "att",
// "sbom"): <repo>:sha256-<hex>.<suffix>.
func LegacyTag(subject name.Digest, suffix string) name.Tag {
	base, _ := digestTagBase(subject.DigestStr())
	return subject.Context().Tag(base + "." + suffix)
}

// ReferrersTag returns the referrers tag schema's tag for subject: <repo>:sha256-<hex>.
func ReferrersTag(subject name.Digest) name.Tag {
	base, _ := digestTagBase(subject.DigestStr())
	return subject.Context().Tag(base)
}

// wantKinds turns a kinds argument into a set; empty means all kinds.
func wantKinds(kinds []Kind) (map[Kind]bool, error) {
	set := map[Kind]bool{}
	if len(kinds) == 0 {
		kinds = AllKinds()
	}
	for _, k := range kinds {
		if _, err := k.suffix(); err != nil {
			return nil, err
		}
		set[k] = true
	}
	return set, nil
}

// checkSubject checks that desc describes subject.
func checkSubject(subject name.Digest, desc v1.Descriptor) error {
	if desc.Digest.String() != subject.DigestStr() {
		return &InvalidInputError{What: "subject descriptor", Value: desc.Digest.String(),
			Reason: fmt.Sprintf("does not describe %s", subject.DigestStr())}
	}
	if desc.Size <= 0 || desc.MediaType == "" {
		return &InvalidInputError{What: "subject descriptor", Value: desc.Digest.String(), Reason: "needs a media type and a size"}
	}
	return nil
}
