package oci

// Media types, artifact types and annotation keys of the two layouts cosign-like reads and
// writes. The strings are those cosign and the Sigstore bundle specification use.
const (
	// MediaTypeOCIManifest is the OCI image manifest media type.
	MediaTypeOCIManifest = "application/vnd.oci.image.manifest.v1+json"
	// MediaTypeOCIIndex is the OCI image index media type.
	MediaTypeOCIIndex = "application/vnd.oci.image.index.v1+json"
	// MediaTypeDockerManifest is the Docker schema 2 manifest media type.
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	// MediaTypeDockerManifestList is the Docker schema 2 manifest list media type.
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	// MediaTypeOCIConfig is the OCI image configuration media type (used by legacy signature images).
	MediaTypeOCIConfig = "application/vnd.oci.image.config.v1+json"
	// MediaTypeEmpty is the OCI empty descriptor media type; its blob is the two bytes "{}".
	MediaTypeEmpty = "application/vnd.oci.empty.v1+json"

	// MediaTypeBundleV03 is the Sigstore bundle v0.3 media type: the artifactType of a bundle
	// manifest and the media type of its single layer.
	MediaTypeBundleV03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// MediaTypeBundleV01 is the media type of Sigstore bundles v0.1 (read only).
	MediaTypeBundleV01 = "application/vnd.dev.sigstore.bundle+json;version=0.1"
	// MediaTypeBundleV02 is the media type of Sigstore bundles v0.2 (read only).
	MediaTypeBundleV02 = "application/vnd.dev.sigstore.bundle+json;version=0.2"
	// MediaTypeBundleV03Legacy is the older spelling of the v0.3 bundle media type (read only).
	MediaTypeBundleV03Legacy = "application/vnd.dev.sigstore.bundle+json;version=0.3"

	// MediaTypeSimpleSigning is the layer media type of a legacy .sig signature.
	MediaTypeSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	// MediaTypeDSSE is the layer media type of a legacy .att attestation.
	MediaTypeDSSE = "application/vnd.dsse.envelope.v1+json"
	// MediaTypeInToto is the DSSE payloadType of in-toto statements.
	MediaTypeInToto = "application/vnd.in-toto+json"
)

// Manifest annotations of the new (bundle) layout.
const (
	// AnnotationBundleContent says what the bundle holds: BundleContentMessageSignature or
	// BundleContentDSSE.
	AnnotationBundleContent = "dev.sigstore.bundle.content"
	// AnnotationBundlePredicateType is the in-toto predicate type of a DSSE bundle.
	AnnotationBundlePredicateType = "dev.sigstore.bundle.predicateType"
	// AnnotationCreated is the OCI creation time annotation (RFC 3339).
	AnnotationCreated = "org.opencontainers.image.created"
	// AnnotationTitle is the OCI title annotation; on a bundle layer it names the file
	// sha256-<hex>.sigstore.json.
	AnnotationTitle = "org.opencontainers.image.title"

	// BundleContentMessageSignature is the AnnotationBundleContent value of a bundle with a
	// message signature.
	BundleContentMessageSignature = "message-signature"
	// BundleContentDSSE is the AnnotationBundleContent value of a bundle with a DSSE envelope.
	BundleContentDSSE = "dsse-envelope"

	// PredicateTypeCosignSign is the predicate type of the statement cosign v3 signs for an image.
	PredicateTypeCosignSign = "https://sigstore.dev/cosign/sign/v1"
)

// Layer annotations of the legacy layout.
const (
	// AnnotationSignature holds the base64 signature of a legacy .sig layer.
	AnnotationSignature = "dev.cosignproject.cosign/signature"
	// AnnotationCertificate holds the PEM signing certificate.
	AnnotationCertificate = "dev.sigstore.cosign/certificate"
	// AnnotationChain holds the PEM certificate chain.
	AnnotationChain = "dev.sigstore.cosign/chain"
	// AnnotationRekorBundle holds the Rekor bundle (SET) JSON.
	AnnotationRekorBundle = "dev.sigstore.cosign/bundle"
	// AnnotationRFC3161Timestamp holds the RFC 3161 timestamp JSON.
	AnnotationRFC3161Timestamp = "dev.sigstore.cosign/rfc3161timestamp"
	// AnnotationPredicateType is the predicate type of a legacy .att layer.
	AnnotationPredicateType = "predicateType"
)

// Legacy tag suffixes.
const (
	// SuffixSignature is the tag suffix of legacy signatures.
	SuffixSignature = "sig"
	// SuffixAttestation is the tag suffix of legacy attestations.
	SuffixAttestation = "att"
	// SuffixSBOM is the tag suffix of legacy SBOMs.
	SuffixSBOM = "sbom"
)

// emptyJSON is the content of the OCI empty descriptor.
const emptyJSON = "{}"

// IsBundleMediaType reports whether mt is one of the Sigstore bundle media types cosign-like reads.
func IsBundleMediaType(mt string) bool {
	switch mt {
	case MediaTypeBundleV03, MediaTypeBundleV01, MediaTypeBundleV02, MediaTypeBundleV03Legacy:
		return true
	}
	return false
}
