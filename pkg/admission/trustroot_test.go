package admission

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/admission/policy"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/tuf"
)

// tarGz packs the files under dir as a gzipped tar whose paths start with prefix.
func tarGz(t testing.TB, dir, prefix string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: prefix + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func b64(data []byte) string { return base64.StdEncoding.EncodeToString(data) }

// sigstoreKeysDoc is a TrustRoot named name giving ca as the certificate authority and the
// logs, CT logs and TSAs of tr inline.
func sigstoreKeysDoc(t testing.TB, name string, ca []*x509.Certificate, tr *root.TrustedRoot) string {
	t.Helper()
	pemKey := func(l *root.TransparencyLog) string {
		data, err := signer.MarshalPublicKeyPEM(l.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return b64(data)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: policy.sigstore.dev/v1alpha1
kind: TrustRoot
metadata: {name: %s}
spec:
  sigstoreKeys:
    certificateAuthorities:
      - subject: {organization: cosign-like dev, commonName: dev CA}
        uri: https://ca.example.com
        certChain: %s
    tLogs:
`, name, b64(pki.EncodeCertificates(ca)))
	for _, l := range tr.Tlogs() {
		fmt.Fprintf(&b, "      - {baseURL: %q, hashAlgorithm: sha-256, publicKey: %s}\n", l.BaseURL, pemKey(l))
	}
	b.WriteString("    ctLogs:\n")
	for _, l := range tr.CTLogs() {
		fmt.Fprintf(&b, "      - {baseURL: %q, hashAlgorithm: sha-256, publicKey: %s}\n", l.BaseURL, pemKey(l))
	}
	b.WriteString("    timestampAuthorities:\n")
	for _, tsa := range tr.TimestampAuthorities() {
		fmt.Fprintf(&b, "      - {subject: {organization: cosign-like dev, commonName: dev TSA}, uri: https://tsa.example.com, certChain: %s}\n", b64(pki.EncodeCertificates(tsa.Chain)))
	}
	return b.String()
}

// TestTrustRootRepositoryAndSigstoreKeys: a keyless policy whose trustRootRef names a TrustRoot
// carrying a serialized TUF repository (spec.repository) or inline keys (spec.sigstoreKeys)
// with the dev stack's material admits an image signed through the stack; one with another CA
// denies it.
func TestTrustRootRepositoryAndSigstoreKeys(t *testing.T) {
	ctx := context.Background()
	w := startDevWorld(t)
	img := w.push(t, "team/app")
	s, o := w.keyless(t, "alice@example.com")
	sign(t, img, s, o)

	otherCA, _, err := pki.NewThrowawayRoot(pkix.Name{CommonName: "another CA"}, time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Another TUF repository, whose trusted root names another CA with the stack's logs.
	otherKeys, err := policy.Parse("other.yaml", []byte(sigstoreKeysDoc(t, "x", []*x509.Certificate{otherCA}, w.trusted)))
	if err != nil {
		t.Fatal(err)
	}
	otherRoot, err := sigstoreKeysRoot(otherKeys.TrustRoots[0].Spec.SigstoreKeys)
	if err != nil {
		t.Fatal(err)
	}
	otherRepo := t.TempDir()
	otherTUFRoot, err := tuf.NewDevRepository(otherRepo, map[string][]byte{tuf.TrustedRootTarget: otherRoot}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	devTUFRoot, err := os.ReadFile(w.st.TUFRootPath)
	if err != nil {
		t.Fatal(err)
	}
	repository := func(name string, rootJSON, tgz []byte) string {
		return fmt.Sprintf("apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: %s}\nspec:\n  repository:\n    root: %s\n    mirrorFS: %s\n    targets: targets\n", name, b64(rootJSON), b64(tgz))
	}
	trustRoots := strings.Join([]string{
		repository("dev-repository", devTUFRoot, tarGz(t, filepath.Join(w.dir, "state", "tuf", "repository"), "repository/")),
		repository("other-repository", otherTUFRoot, tarGz(t, filepath.Join(otherRepo, "repository"), "")),
		sigstoreKeysDoc(t, "dev-keys", w.trusted.CertificateAuthorities()[0].Chain, w.trusted),
		sigstoreKeysDoc(t, "other-keys", []*x509.Certificate{otherCA}, w.trusted),
	}, "---\n")
	docs, err := policy.Parse("trust.yaml", []byte(trustRoots))
	if err != nil {
		t.Fatal(err)
	}
	named, err := FetchTrustRoots(ctx, docs.TrustRoots, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		trustRoot string
		allowed   bool
	}{{"dev-repository", true}, {"dev-keys", true}, {"other-repository", false}, {"other-keys", false}} {
		t.Run(c.trustRoot, func(t *testing.T) {
			pols := parsePolicies(t, fmt.Sprintf(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: via-%[3]s}
spec:
  images: [{glob: "%[1]s/team/**"}]
  authorities:
    - keyless:
        trustRootRef: %[3]s
        identities: [{issuer: "%[2]s", subject: alice@example.com}]
      ctlog: {trustRootRef: %[3]s}
`, w.st.RegistryHost, w.st.OIDCURL, c.trustRoot))
			hook := startWebhook(t, Config{Policies: pols, Decider: DeciderOptions{Trust: Trust{Named: named}}})
			r := hook.review("/validate", fixture(t, "job", img.String()))
			if r.Allowed != c.allowed {
				t.Fatalf("allowed %t, want %t: %s", r.Allowed, c.allowed, message(r))
			}
			if !c.allowed && (!strings.Contains(message(r), "failed policy via-"+c.trustRoot) || !strings.Contains(message(r), "does not chain to a trusted CA")) {
				t.Fatalf("denial %q does not name the policy and the certificate", message(r))
			}
		})
	}
}

// TestTrustRootRefusedAtLoad: trust material that cannot be read is refused when it is
// loaded, naming the file, the trust root and the field.
func TestTrustRootRefusedAtLoad(t *testing.T) {
	var evil bytes.Buffer
	zw := gzip.NewWriter(&evil)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "../../escape.json", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	emptyRepo := t.TempDir()
	if err := os.WriteFile(filepath.Join(emptyRepo, "root.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for want, doc := range map[string]string{
		`trust.yaml: trust root "t": spec.repository.mirrorFS: not a gzipped tar`:                                           "repository: {root: e30=, mirrorFS: bm90IGEgdGFy}",
		`trust.yaml: trust root "t": spec.repository.mirrorFS: entry "../../escape.json": not a path inside the repository`: "repository: {root: e30=, mirrorFS: " + b64(evil.Bytes()) + "}",
		`trust.yaml: trust root "t": from spec.repository: `:                                                                "repository: {root: e30=, mirrorFS: " + b64(tarGz(t, emptyRepo, "repository/")) + "}",
	} {
		docs, err := policy.Parse("trust.yaml", []byte("apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: t}\nspec:\n  "+doc+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		_, err = FetchTrustRoots(context.Background(), docs.TrustRoots, filepath.Join(dir, "cache"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to say %q", err, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "escape.json")); err == nil {
			t.Error("an entry was written outside the repository")
		}
	}
}
