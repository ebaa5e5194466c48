package certext

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fullExtensions() Extensions {
	return Extensions{
		Issuer:                              "https://token.actions.githubusercontent.com",
		GithubWorkflowTrigger:               "push",
		GithubWorkflowSHA:                   "0123456789abcdef0123456789abcdef01234567",
		GithubWorkflowName:                  "release",
		GithubWorkflowRepository:            "acme/app",
		GithubWorkflowRef:                   "refs/heads/main",
		IssuerV2:                            "https://token.actions.githubusercontent.com",
		BuildSignerURI:                      "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
		BuildSignerDigest:                   "0123456789abcdef0123456789abcdef01234567",
		RunnerEnvironment:                   "github-hosted",
		SourceRepositoryURI:                 "https://github.com/acme/app",
		SourceRepositoryDigest:              "0123456789abcdef0123456789abcdef01234567",
		SourceRepositoryRef:                 "refs/heads/main",
		SourceRepositoryIdentifier:          "1234",
		SourceRepositoryOwnerURI:            "https://github.com/acme",
		SourceRepositoryOwnerIdentifier:     "5678",
		BuildConfigURI:                      "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
		BuildConfigDigest:                   "0123456789abcdef0123456789abcdef01234567",
		BuildTrigger:                        "push",
		RunInvocationURI:                    "https://github.com/acme/app/actions/runs/1/attempts/1",
		SourceRepositoryVisibilityAtSigning: "public",
		DeploymentEnvironment:               "production",
	}
}

// selfSigned makes a certificate that carries exts, so Parse reads them back from real DER.
func selfSigned(t *testing.T, exts []pkix.Extension) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:    big.NewInt(1),
		NotBefore:       time.Now().Add(-time.Minute),
		NotAfter:        time.Now().Add(time.Hour),
		ExtraExtensions: exts,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   Extensions
		n    int
	}{
		{"empty", Extensions{}, 0},
		{"email identity", Extensions{Issuer: "https://accounts.example.com", IssuerV2: "https://accounts.example.com"}, 2},
		{"all fields", fullExtensions(), 22},
		{"non-ASCII", Extensions{IssuerV2: "https://例え.example/ä", BuildTrigger: "pùsh"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exts, err := tc.in.Render()
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if len(exts) != tc.n {
				t.Fatalf("Render gave %d extensions, want %d", len(exts), tc.n)
			}
			for _, e := range exts {
				if e.Critical {
					t.Errorf("extension %s is critical", e.Id)
				}
			}
			got, err := Parse(selfSigned(t, exts))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tc.in {
				t.Fatalf("round trip: got %+v, want %+v", got, tc.in)
			}
		})
	}
}

func TestRenderEncoding(t *testing.T) {
	exts, err := Extensions{Issuer: "https://i.example", IssuerV2: "https://i.example"}.Render()
	if err != nil {
		t.Fatal(err)
	}
	if !exts[0].Id.Equal(OIDIssuer) || string(exts[0].Value) != "https://i.example" {
		t.Errorf(".1 = %s %q, want raw issuer", exts[0].Id, exts[0].Value)
	}
	want := append([]byte{0x0c, byte(len("https://i.example"))}, "https://i.example"...)
	if !exts[1].Id.Equal(OIDIssuerV2) || !bytes.Equal(exts[1].Value, want) {
		t.Errorf(".8 = %s %x, want UTF8String %x", exts[1].Id, exts[1].Value, want)
	}
	if _, err := (Extensions{BuildTrigger: "\xff"}).Render(); err == nil || !strings.Contains(err.Error(), "1.3.6.1.4.1.57264.1.20") {
		t.Errorf("Render of invalid UTF-8 gave %v, want an error naming .20", err)
	}
}

func TestParseMalformed(t *testing.T) {
	printable, _ := asn1.MarshalWithParams("abc", "printable")
	utf8, _ := asn1.MarshalWithParams("abc", "utf8")
	tests := []struct {
		name  string
		value []byte
		want  string
	}{
		{"raw string instead of DER", []byte("https://i.example"), "not DER"},
		{"trailing bytes", append(append([]byte{}, utf8...), 0x00), "1 trailing bytes"},
		{"PrintableString", printable, "want a universal UTF8String"},
		{"invalid UTF-8", []byte{0x0c, 0x01, 0xff}, "invalid UTF8String"},
		{"truncated", []byte{0x0c, 0x05, 'a'}, "not DER"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert := selfSigned(t, []pkix.Extension{{Id: OIDIssuerV2, Value: tc.value}})
			_, err := Parse(cert)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "1.3.6.1.4.1.57264.1.8") {
				t.Fatalf("Parse = %v, want ErrMalformed naming .8 and %q", err, tc.want)
			}
		})
	}
	if _, err := Parse(nil); err == nil || !strings.Contains(err.Error(), "nil certificate") {
		t.Fatalf("Parse(nil) = %v", err)
	}
}

func TestOIDCIssuer(t *testing.T) {
	tests := []struct {
		in   Extensions
		want string
	}{
		{Extensions{}, ""},
		{Extensions{Issuer: "https://old"}, "https://old"},
		{Extensions{IssuerV2: "https://new"}, "https://new"},
		{Extensions{Issuer: "https://old", IssuerV2: "https://new"}, "https://new"},
	}
	for _, tc := range tests {
		if got := tc.in.OIDCIssuer(); got != tc.want {
			t.Errorf("%+v.OIDCIssuer() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// conformanceCert reads the leaf certificate of a bundle from the shared conformance suite.
func conformanceCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "conformance", "bundle-verify", name, "bundle.sigstore.json")
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) && os.Getenv("CI") == "" {
			t.Skipf("conformance bundle not present: %v", err)
		}
		t.Fatal(err)
	}
	var b struct {
		VerificationMaterial struct {
			Certificate struct {
				RawBytes string `json:"rawBytes"`
			} `json:"certificate"`
		} `json:"verificationMaterial"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(b.VerificationMaterial.Certificate.RawBytes)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestFulcioIssuedCertificate parses a certificate issued by the public Fulcio instance and checks
// that rendering the parsed values gives back Fulcio's extension bytes exactly.
func TestFulcioIssuedCertificate(t *testing.T) {
	cert := conformanceCert(t, "happy-path-v0.3")
	got, err := Parse(cert)
	if err != nil {
		t.Fatal(err)
	}
	const repo = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon"
	const workflow = repo + "/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	const sha = "c7b3dfb335f051e1c86bda4c716fac97df62ad81"
	want := Extensions{
		Issuer:                              "https://token.actions.githubusercontent.com",
		GithubWorkflowTrigger:               "workflow_dispatch",
		GithubWorkflowSHA:                   sha,
		GithubWorkflowName:                  "Extremely dangerous OIDC beacon",
		GithubWorkflowRepository:            "sigstore-conformance/extremely-dangerous-public-oidc-beacon",
		GithubWorkflowRef:                   "refs/heads/main",
		IssuerV2:                            "https://token.actions.githubusercontent.com",
		BuildSignerURI:                      workflow,
		BuildSignerDigest:                   sha,
		RunnerEnvironment:                   "github-hosted",
		SourceRepositoryURI:                 repo,
		SourceRepositoryDigest:              sha,
		SourceRepositoryRef:                 "refs/heads/main",
		SourceRepositoryIdentifier:          "632596897",
		SourceRepositoryOwnerURI:            "https://github.com/sigstore-conformance",
		SourceRepositoryOwnerIdentifier:     "131804563",
		BuildConfigURI:                      workflow,
		BuildConfigDigest:                   sha,
		BuildTrigger:                        "workflow_dispatch",
		RunInvocationURI:                    repo + "/actions/runs/8347481628/attempts/1",
		SourceRepositoryVisibilityAtSigning: "public",
	}
	if got != want {
		t.Fatalf("Parse:\n got %+v\nwant %+v", got, want)
	}
	if got.OIDCIssuer() != "https://token.actions.githubusercontent.com" {
		t.Errorf("OIDCIssuer = %q", got.OIDCIssuer())
	}
	rendered, err := got.Render()
	if err != nil {
		t.Fatal(err)
	}
	var fulcio []pkix.Extension
	for _, e := range cert.Extensions {
		if len(e.Id) == 9 && e.Id[:8].Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1}) {
			fulcio = append(fulcio, e)
		}
	}
	if len(rendered) != len(fulcio) {
		t.Fatalf("rendered %d extensions, Fulcio's certificate has %d", len(rendered), len(fulcio))
	}
	for i := range fulcio {
		if !rendered[i].Id.Equal(fulcio[i].Id) || rendered[i].Critical != fulcio[i].Critical ||
			!bytes.Equal(rendered[i].Value, fulcio[i].Value) {
			t.Errorf("extension %d: rendered %s %x, Fulcio has %s %x", i, rendered[i].Id, rendered[i].Value,
				fulcio[i].Id, fulcio[i].Value)
		}
	}
}

func FuzzParseExtensions(f *testing.F) {
	full, _ := fullExtensions().Render()
	for _, e := range full {
		f.Add(e.Id.String(), e.Value)
	}
	f.Add("1.3.6.1.4.1.57264.1.8", []byte{0x0c, 0x80})
	f.Add("1.3.6.1.4.1.57264.1.9", []byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, oid string, value []byte) {
		var id asn1.ObjectIdentifier
		for _, part := range strings.Split(oid, ".") {
			n := 0
			for _, c := range part {
				if c < '0' || c > '9' || n > 1<<20 {
					return
				}
				n = n*10 + int(c-'0')
			}
			id = append(id, n)
		}
		e, err := ParseExtensions([]pkix.Extension{{Id: id, Value: value}})
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		// Whatever parses must render and parse back to the same values.
		exts, err := e.Render()
		if err != nil {
			t.Fatalf("Render after Parse: %v", err)
		}
		again, err := ParseExtensions(exts)
		if err != nil || again != e {
			t.Fatalf("re-parse: %+v, %v; want %+v", again, err, e)
		}
	})
}
