package bundle

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
)

// RekorBundle is cosign's dev.sigstore.cosign/bundle annotation: a Rekor v1 entry with its
// signed entry timestamp. Encoded with encoding/json it reads and writes the annotation's
// form: {"SignedEntryTimestamp": base64, "Payload": {"body", "integratedTime", "logIndex",
// "logID" (hex)}}.
type RekorBundle struct {
	SignedEntryTimestamp []byte
	Payload              RekorPayload
}

// RekorPayload is the entry part of a RekorBundle. Body is the entry body as the annotation
// holds it (cosign writes its canonical JSON in base64), kept as decoded so that it is written
// back unchanged.
type RekorPayload struct {
	Body           any    `json:"body"`
	IntegratedTime int64  `json:"integratedTime"`
	LogIndex       int64  `json:"logIndex"`
	LogID          string `json:"logID"`
}

// RFC3161Timestamp is cosign's dev.sigstore.cosign/rfc3161timestamp annotation:
// {"SignedRFC3161Timestamp": base64 of the DER TimeStampResp}.
type RFC3161Timestamp struct {
	SignedRFC3161Timestamp []byte
}

// SignedPayload is one legacy-layout signature (a layer of a .sig tag) as cosign's
// `download signature` reports it: the layer's signature annotation, its payload, and the
// certificate, chain, Rekor bundle and timestamp its annotations carry (nil when absent).
type SignedPayload struct {
	Base64Signature  string
	Payload          []byte
	Cert             *x509.Certificate
	Chain            []*x509.Certificate
	Bundle           *RekorBundle
	RFC3161Timestamp *RFC3161Timestamp
}

// ParseSignedPayload reads a legacy signature layer's payload and annotations as cosign reads
// them for `download signature`: the signature annotation must be present (its value is kept
// as it is); the certificate is the first of the certificate annotation's PEM blocks, the chain
// every block of the chain annotation; the Rekor bundle and timestamp annotations are decoded
// from their JSON. Each annotation is at most 1 MiB. Errors wrap ErrInvalidBundle.
func ParseSignedPayload(payload []byte, annotations map[string]string) (*SignedPayload, error) {
	if err := checkAnnotationSizes(annotations); err != nil {
		return nil, err
	}
	sig, ok := annotations[AnnotationSignature]
	if !ok {
		return nil, fmt.Errorf("%w: legacy signature has no %s annotation", ErrInvalidBundle, AnnotationSignature)
	}
	p := &SignedPayload{Base64Signature: sig, Payload: payload}
	if v := annotations[AnnotationCertificate]; v != "" {
		certs, err := pemCertificates([]byte(v))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBundle, AnnotationCertificate, err)
		}
		p.Cert = certs[0]
	}
	if v := annotations[AnnotationChain]; v != "" {
		certs, err := pemCertificates([]byte(v))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBundle, AnnotationChain, err)
		}
		p.Chain = certs
	}
	if v := annotations[AnnotationBundle]; v != "" {
		p.Bundle = &RekorBundle{}
		if err := json.Unmarshal([]byte(v), p.Bundle); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBundle, AnnotationBundle, err)
		}
	}
	if v := annotations[AnnotationTimestamp]; v != "" {
		p.RFC3161Timestamp = &RFC3161Timestamp{}
		if err := json.Unmarshal([]byte(v), p.RFC3161Timestamp); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBundle, AnnotationTimestamp, err)
		}
	}
	return p, nil
}

// MarshalJSON writes the fields under cosign's names, in cosign's order, each present (null
// when absent), Payload in base64, with one difference: Cert is the certificate as a PEM
// string and Chain a list of PEM strings, where cosign dumps Go's x509.Certificate structure.
func (p SignedPayload) MarshalJSON() ([]byte, error) {
	var cert *string
	if p.Cert != nil {
		s := certificatePEM(p.Cert)
		cert = &s
	}
	var chain []string
	if p.Chain != nil {
		chain = make([]string, 0, len(p.Chain))
		for _, c := range p.Chain {
			chain = append(chain, certificatePEM(c))
		}
	}
	return json.Marshal(struct {
		Base64Signature  string
		Payload          []byte
		Cert             *string
		Chain            []string
		Bundle           *RekorBundle
		RFC3161Timestamp *RFC3161Timestamp
	}{p.Base64Signature, p.Payload, cert, chain, p.Bundle, p.RFC3161Timestamp})
}

func certificatePEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}
