package ctlog

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	ctx509 "github.com/google/certificate-transparency-go/x509"
)

// OIDSCTList is the X.509 extension that embeds SCTs in a certificate (RFC 6962 section 3.3).
var OIDSCTList = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}

// ErrLogUnavailable wraps failures to reach the CT log or to get a usable SCT from it.
var ErrLogUnavailable = errors.New("CT log unavailable")

// maxResponseSize bounds an add-chain answer.
const maxResponseSize = 64 << 10

// Submit posts a DER chain (leaf first) to the CT log at baseURL (add-pre-chain when precert is
// true, else add-chain) and returns the SCT it answers. Errors wrap ErrLogUnavailable.
func Submit(ctx context.Context, client *http.Client, baseURL string, chain [][]byte, precert bool) (*ct.SignedCertificateTimestamp, error) {
	path := AddChainPath
	if precert {
		path = AddPreChainPath
	}
	body, err := json.Marshal(ct.AddChainRequest{Chain: chain})
	if err != nil {
		return nil, fmt.Errorf("encoding add-chain request: %w", err)
	}
	u := strings.TrimSuffix(baseURL, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLogUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLogUnavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize))
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %v", ErrLogUnavailable, u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered HTTP %d: %s", ErrLogUnavailable, u, resp.StatusCode,
			strings.TrimSpace(string(data[:min(len(data), 512)])))
	}
	var acr ct.AddChainResponse
	if err := json.Unmarshal(data, &acr); err != nil {
		return nil, fmt.Errorf("%w: decoding the answer of %s: %v", ErrLogUnavailable, u, err)
	}
	sct, err := acr.ToSignedCertificateTimestamp()
	if err != nil {
		return nil, fmt.Errorf("%w: SCT from %s: %v", ErrLogUnavailable, u, err)
	}
	if sct.SCTVersion != ct.V1 {
		return nil, fmt.Errorf("%w: SCT version %d from %s, want v1", ErrLogUnavailable, sct.SCTVersion, u)
	}
	return sct, nil
}

// SCTListExtension encodes SCTs as the non-critical embedded-SCT extension: an OCTET STRING
// holding the TLS-encoded SignedCertificateTimestampList.
func SCTListExtension(scts ...*ct.SignedCertificateTimestamp) (pkix.Extension, error) {
	if len(scts) == 0 {
		return pkix.Extension{}, errors.New("no SCTs to embed")
	}
	var list ctx509.SignedCertificateTimestampList
	for _, s := range scts {
		b, err := cttls.Marshal(*s)
		if err != nil {
			return pkix.Extension{}, fmt.Errorf("encoding SCT: %w", err)
		}
		list.SCTList = append(list.SCTList, ctx509.SerializedSCT{Val: b})
	}
	lb, err := cttls.Marshal(list)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encoding SCT list: %w", err)
	}
	val, err := asn1.Marshal(lb)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encoding SCT list extension: %w", err)
	}
	return pkix.Extension{Id: OIDSCTList, Value: val}, nil
}

// PoisonExtension is the critical precertificate poison extension (value ASN.1 NULL).
func PoisonExtension() pkix.Extension {
	return pkix.Extension{Id: asn1.ObjectIdentifier(OIDPoison), Critical: true, Value: asn1.NullBytes}
}

// VerifyEmbeddedSCT checks the SCT embedded in a certificate (DER chain, leaf then issuer)
// against a CT log key, as verifiers do.
func VerifyEmbeddedSCT(leafDER, issuerDER []byte, logKey any) error {
	leaf, err := ctx509.ParseCertificate(leafDER)
	if err != nil && ctx509.IsFatal(err) {
		return fmt.Errorf("parsing certificate: %w", err)
	}
	issuer, err := ctx509.ParseCertificate(issuerDER)
	if err != nil && ctx509.IsFatal(err) {
		return fmt.Errorf("parsing issuer: %w", err)
	}
	if len(leaf.SCTList.SCTList) == 0 {
		return errors.New("certificate embeds no SCT")
	}
	v, err := ct.NewSignatureVerifier(logKey)
	if err != nil {
		return fmt.Errorf("CT log key: %w", err)
	}
	for i, s := range leaf.SCTList.SCTList {
		var sct ct.SignedCertificateTimestamp
		if rest, err := cttls.Unmarshal(s.Val, &sct); err != nil || len(rest) > 0 {
			return fmt.Errorf("SCT %d does not parse: %v", i, err)
		}
		entry, err := ct.MerkleTreeLeafForEmbeddedSCT([]*ctx509.Certificate{leaf, issuer}, sct.Timestamp)
		if err != nil {
			return fmt.Errorf("SCT %d: %w", i, err)
		}
		if err := v.VerifySCTSignature(sct, ct.LogEntry{Leaf: *entry}); err != nil {
			return fmt.Errorf("SCT %d: %w", i, err)
		}
	}
	return nil
}

// VerifyPrecertSCT checks an SCT returned for a precertificate (DER, with its issuer's DER)
// against the CT log's public key.
func VerifyPrecertSCT(sct *ct.SignedCertificateTimestamp, precertDER, issuerDER []byte, logKey any) error {
	pre, err := ctx509.ParseCertificate(precertDER)
	if err != nil && ctx509.IsFatal(err) {
		return fmt.Errorf("parsing precertificate: %w", err)
	}
	issuer, err := ctx509.ParseCertificate(issuerDER)
	if err != nil && ctx509.IsFatal(err) {
		return fmt.Errorf("parsing issuer: %w", err)
	}
	leaf, err := ct.MerkleTreeLeafFromChain([]*ctx509.Certificate{pre, issuer}, ct.PrecertLogEntryType, sct.Timestamp)
	if err != nil {
		return fmt.Errorf("precertificate entry: %w", err)
	}
	v, err := ct.NewSignatureVerifier(logKey)
	if err != nil {
		return fmt.Errorf("CT log key: %w", err)
	}
	if err := v.VerifySCTSignature(*sct, ct.LogEntry{Leaf: *leaf}); err != nil {
		return fmt.Errorf("SCT does not verify under the CT log key: %w", err)
	}
	return nil
}
