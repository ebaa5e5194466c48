package attest

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Predicate type URIs of the predicates cosign names with --type.
const (
	// PredicateCustom is cosign's custom predicate: {"Data": <file content>, "Timestamp": <RFC 3339>}.
	PredicateCustom = "https://cosign.sigstore.dev/attestation/v1"
	// PredicateVuln is cosign's vulnerability scan predicate.
	PredicateVuln = "https://cosign.sigstore.dev/attestation/vuln/v1"
	// PredicateOpenVEX is the OpenVEX document namespace.
	PredicateOpenVEX = "https://openvex.dev/ns"
	// PredicateSLSAProvenance02 is SLSA provenance v0.2.
	PredicateSLSAProvenance02 = "https://slsa.dev/provenance/v0.2"
	// PredicateSLSAProvenance1 is SLSA provenance v1.
	PredicateSLSAProvenance1 = "https://slsa.dev/provenance/v1"
	// PredicateSPDX is an SPDX document.
	PredicateSPDX = "https://spdx.dev/Document"
	// PredicateCycloneDX is a CycloneDX BOM.
	PredicateCycloneDX = "https://cyclonedx.org/bom"
	// PredicateLink is an in-toto 0.9 link.
	PredicateLink = "https://in-toto.io/Link/v1"
)

// typeNames maps cosign's --type names to predicate type URIs.
var typeNames = map[string]string{
	"custom":           PredicateCustom,
	"slsaprovenance":   PredicateSLSAProvenance02,
	"slsaprovenance02": PredicateSLSAProvenance02,
	"slsaprovenance1":  PredicateSLSAProvenance1,
	"spdx":             PredicateSPDX,
	"spdxjson":         PredicateSPDX,
	"cyclonedx":        PredicateCycloneDX,
	"link":             PredicateLink,
	"vuln":             PredicateVuln,
	"openvex":          PredicateOpenVEX,
}

// ErrUnknownType is returned for a --type that is neither a known name nor a URI.
var ErrUnknownType = errors.New("unknown predicate type")

// TypeNames lists the --type names PredicateType knows, sorted.
func TypeNames() []string {
	names := make([]string, 0, len(typeNames))
	for n := range typeNames {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// PredicateType returns the predicate type URI for a --type value: one of cosign's names
// (TypeNames), mapped as cosign maps it, or an absolute URI, returned as it is. Anything else
// fails with ErrUnknownType (cosign would take a bare word as the URI; a typo such as
// "spdxjosn" then silently names a type nobody writes).
func PredicateType(typ string) (string, error) {
	if uri, ok := typeNames[typ]; ok {
		return uri, nil
	}
	if typ == "" {
		return "", fmt.Errorf("%w: empty (want one of %s, or a URI)", ErrUnknownType, strings.Join(TypeNames(), ", "))
	}
	u, err := url.Parse(typ)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") || strings.ContainsAny(typ, " \t\r\n") {
		return "", fmt.Errorf("%w %q: want one of %s, or an absolute URI", ErrUnknownType, typ, strings.Join(TypeNames(), ", "))
	}
	return typ, nil
}
