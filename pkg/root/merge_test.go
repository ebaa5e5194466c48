package root_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/root"
)

func part(t *testing.T, tr *prototrustroot.TrustedRoot) []byte {
	t.Helper()
	b, err := root.MarshalTrustedRoot(tr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMergeTrustedRoots(t *testing.T) {
	key, _ := pki.GenerateP256()
	rootCert, err := pki.NewCA(pki.CAOptions{Subject: pkix.Name{CommonName: "r", Organization: []string{"o"}}, Validity: time.Hour}, key.Public(), nil, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := pki.CertificateAuthority([]*x509.Certificate{rootCert}, "http://ca.test")
	tl, _ := pki.TransparencyLog("http://ct.test", key.Public(), time.Unix(1700000000, 0))
	caPart := part(t, &prototrustroot.TrustedRoot{CertificateAuthorities: []*prototrustroot.CertificateAuthority{ca}})
	ctPart := part(t, &prototrustroot.TrustedRoot{Ctlogs: []*prototrustroot.TransparencyLogInstance{tl}})
	tsaPart := part(t, &prototrustroot.TrustedRoot{TimestampAuthorities: []*prototrustroot.CertificateAuthority{ca}})
	merged, err := root.MergeTrustedRoots(caPart, ctPart, tsaPart, caPart)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := root.UnmarshalTrustedRoot(merged)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.CertificateAuthorities) != 1 || len(tr.Ctlogs) != 1 || len(tr.TimestampAuthorities) != 1 || len(tr.Tlogs) != 0 {
		t.Fatalf("merged: %d CAs %d ctlogs %d TSAs %d tlogs", len(tr.CertificateAuthorities), len(tr.Ctlogs), len(tr.TimestampAuthorities), len(tr.Tlogs))
	}
	for _, want := range []string{`"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"`, `"certificateAuthorities"`, `"ctlogs"`, `"timestampAuthorities"`, `"validFor"`, `"logId"`} {
		if !strings.Contains(string(merged), want) {
			t.Errorf("merged trusted root lacks %s", want)
		}
	}
	if _, err := root.MergeTrustedRoots([]byte(`{"mediaType":"application/json"}`)); err == nil || !strings.Contains(err.Error(), `trusted root media type "application/json"`) {
		t.Fatalf("foreign media type: %v", err)
	}
	// Parts written by other tools under the later spellings are read; the merge is written
	// under the one every client reads.
	for _, mt := range []string{"application/vnd.dev.sigstore.trustedroot.v0.1+json", "application/vnd.dev.sigstore.trustedroot.v0.2+json"} {
		other := strings.Replace(string(caPart), root.TrustedRootMediaType, mt, 1)
		out, err := root.MergeTrustedRoots([]byte(other))
		if err != nil {
			t.Fatalf("part with media type %s: %v", mt, err)
		}
		if tr, err := root.UnmarshalTrustedRoot(out); err != nil || tr.MediaType != root.TrustedRootMediaType {
			t.Fatalf("merge of a %s part: %v, media type %q", mt, err, tr.GetMediaType())
		}
	}
	if _, err := root.MergeTrustedRoots([]byte(`{`)); err == nil || !strings.Contains(err.Error(), "part 1: decoding trusted root") {
		t.Fatalf("bad JSON: %v", err)
	}
	if _, err := root.MergeTrustedRoots(); err == nil {
		t.Fatal("no parts accepted")
	}
}

func TestNewSigningConfig(t *testing.T) {
	data, err := root.NewSigningConfig(root.SigningConfigOptions{CAURLs: []string{"http://127.0.0.1:5555"}, OIDCURLs: []string{"http://127.0.0.1:5556"},
		RekorURLs: []string{"http://127.0.0.1:3003"}, TSAURLs: []string{"http://127.0.0.1:3004/api/v1/timestamp"}})
	if err != nil {
		t.Fatal(err)
	}
	var sc prototrustroot.SigningConfig
	if err := protojson.Unmarshal(data, &sc); err != nil {
		t.Fatal(err)
	}
	if sc.MediaType != root.SigningConfigMediaType || sc.CaUrls[0].Url != "http://127.0.0.1:5555" || sc.RekorTlogUrls[0].MajorApiVersion != 2 ||
		sc.TsaUrls[0].MajorApiVersion != 1 || sc.TsaConfig.Selector != prototrustroot.ServiceSelector_ANY || sc.CaUrls[0].ValidFor.Start == nil {
		t.Fatalf("signing config: %s", data)
	}
	if _, err := root.NewSigningConfig(root.SigningConfigOptions{CAURLs: []string{"127.0.0.1:5555"}}); err == nil || !strings.Contains(err.Error(), `CA URL "127.0.0.1:5555"`) {
		t.Fatalf("bad URL: %v", err)
	}
}

func FuzzMergeTrustedRoots(f *testing.F) {
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot.v0.2+json","ctlogs":[{"baseUrl":"x"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := root.MergeTrustedRoots(data)
		if err != nil {
			return
		}
		if _, err := root.UnmarshalTrustedRoot(out); err != nil {
			t.Fatalf("merged output does not parse: %v", err)
		}
	})
}
