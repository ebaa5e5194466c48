package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/internal/testutil/testservers"
	"github.com/cosign-like/cosign-like/pkg/oci"
)

// legacyLayer is one layer of a .sig tag, read straight from the registry.
type legacyLayer struct {
	payload     []byte
	annotations map[string]string
}

// readSigTag reads the layers of img's legacy .sig tag with go-containerregistry.
func readSigTag(t *testing.T, img name.Digest) []legacyLayer {
	t.Helper()
	tag := img.Context().Tag(strings.Replace(img.DigestStr(), ":", "-", 1) + ".sig")
	sigImg, err := remote.Image(tag)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sigImg.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []legacyLayer
	for _, d := range m.Layers {
		l, err := sigImg.LayerByDigest(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, legacyLayer{layerBytes(t, l), d.Annotations})
	}
	return out
}

// layerBytes reads a layer's blob as the registry holds it.
func layerBytes(t *testing.T, l v1.Layer) []byte {
	t.Helper()
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// certsFromPEM parses every certificate of a PEM document.
func certsFromPEM(t *testing.T, data string) [][]byte {
	t.Helper()
	var out [][]byte
	rest := []byte(data)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("certificate in %q: %v", data, err)
		}
		out = append(out, c.Raw)
	}
	if len(out) == 0 || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("%q is not a PEM certificate list", data)
	}
	return out
}

// checkSignedPayloadLine checks one line of `download signature` against the layer it prints.
func checkSignedPayloadLine(t *testing.T, line string, l legacyLayer) {
	t.Helper()
	// Field names and order are cosign's SignedPayload, every one present.
	dec := json.NewDecoder(strings.NewReader(line))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(keys, ","); got != "Base64Signature,Payload,Cert,Chain,Bundle,RFC3161Timestamp" {
		t.Fatalf("fields %s in %s", got, line)
	}
	var got struct {
		Base64Signature  string
		Payload          []byte
		Cert             *string
		Chain            []string
		Bundle           json.RawMessage
		RFC3161Timestamp json.RawMessage
	}
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatal(err)
	}
	if got.Base64Signature != l.annotations[oci.AnnotationSignature] {
		t.Errorf("Base64Signature %q, layer annotation %q", got.Base64Signature, l.annotations[oci.AnnotationSignature])
	}
	if !bytes.Equal(got.Payload, l.payload) {
		t.Errorf("Payload %q, layer %q", got.Payload, l.payload)
	}
	if c := l.annotations[oci.AnnotationCertificate]; c == "" {
		if got.Cert != nil {
			t.Errorf("Cert %q for a layer without one", *got.Cert)
		}
	} else if got.Cert == nil || !bytes.Equal(certsFromPEM(t, *got.Cert)[0], certsFromPEM(t, c)[0]) || len(certsFromPEM(t, *got.Cert)) != 1 {
		t.Errorf("Cert %v, want the PEM of the annotation's certificate", got.Cert)
	}
	if c := l.annotations[oci.AnnotationChain]; c == "" {
		if got.Chain != nil {
			t.Errorf("Chain %q for a layer without one", got.Chain)
		}
	} else {
		want := certsFromPEM(t, c)
		if len(got.Chain) != len(want) {
			t.Fatalf("Chain of %d certificates, the annotation has %d", len(got.Chain), len(want))
		}
		for i, p := range got.Chain {
			if der := certsFromPEM(t, p); len(der) != 1 || !bytes.Equal(der[0], want[i]) {
				t.Errorf("Chain[%d] is not the annotation's certificate %d", i, i)
			}
		}
	}
	for field, pair := range map[string][2]string{
		"Bundle":           {string(got.Bundle), l.annotations[oci.AnnotationRekorBundle]},
		"RFC3161Timestamp": {string(got.RFC3161Timestamp), l.annotations[oci.AnnotationRFC3161Timestamp]},
	} {
		want := pair[1]
		if want == "" {
			want = "null"
		}
		if pair[0] != want {
			t.Errorf("%s %s, layer annotation %s", field, pair[0], want)
		}
	}
}

// cosignBundleLines computes what cosign v3 prints for the bundles attached to img: each
// referrer's bundle layer parsed with protojson and written back through encoding/json.
func cosignBundleLines(t *testing.T, img name.Digest) []string {
	t.Helper()
	idx, err := remote.Referrers(img)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range im.Manifests {
		ri, err := remote.Image(img.Context().Digest(d.Digest.String()))
		if err != nil {
			t.Fatal(err)
		}
		ls, err := ri.Layers()
		if err != nil || len(ls) != 1 {
			t.Fatalf("referrer %s: %d layers (%v)", d.Digest, len(ls), err)
		}
		pb := &protobundle.Bundle{}
		if err := protojson.Unmarshal(layerBytes(t, ls[0]), pb); err != nil {
			t.Fatal(err)
		}
		line, err := json.Marshal(protoJSON{pb})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(line))
	}
	return out
}

// protoJSON marshals a bundle as sigstore-go's Bundle does: with protojson.
type protoJSON struct{ b *protobundle.Bundle }

func (p protoJSON) MarshalJSON() ([]byte, error) { return protojson.Marshal(p.b) }

// signPayloadWithKey signs payload with a key file (as a blob: the legacy signature is the
// same ECDSA signature over its SHA-256) and returns the base64 signature.
func signPayloadWithKey(t *testing.T, dir, key string, payload []byte) string {
	t.Helper()
	path := filepath.Join(dir, "payload.json")
	if err := os.WriteFile(path, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "payload.sigstore.json")
	mustRun(t, "sign-blob", "--key", key, "--tlog-upload=false", "--bundle", out, path)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		MessageSignature struct{ Signature string } `json:"messageSignature"`
	}
	if err := json.Unmarshal(data, &b); err != nil || b.MessageSignature.Signature == "" {
		t.Fatalf("sign-blob bundle %s (%v)", data, err)
	}
	return b.MessageSignature.Signature
}

// startKeylessStack starts the embedded stack for the test, points the CLI at its trusted root
// and signing config, and returns it with an ID token for alice@example.com.
func startKeylessStack(t *testing.T) (*testservers.Stack, string) {
	t.Helper()
	st := testservers.StartStack(t)
	t.Setenv("COSIGN_LIKE_TRUSTED_ROOT", st.TrustedRootPath)
	t.Setenv("COSIGN_LIKE_SIGNING_CONFIG", st.SigningConfigPath)
	t.Setenv("HOME", t.TempDir()) // the log's checkpoint state goes under it
	return st, testservers.Token(t, st.Issuer, "alice@example.com")
}

func downloadLines(t *testing.T, img string) []string {
	t.Helper()
	stdout, _ := mustRun(t, "download", "signature", img)
	if !strings.HasSuffix(stdout, "\n") {
		t.Fatalf("download output %q does not end in a newline", stdout)
	}
	return strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
}

// TestDownloadSignatureCLI checks `download signature` field by field against what was
// written: legacy signatures (keyed with an integer annotation, keyless with certificate,
// chain and timestamp, and with a cosign v2 Rekor bundle) as cosign's SignedPayload, then,
// once bundles are attached, every bundle as cosign v3 prints it and no legacy signature.
func TestDownloadSignatureCLI(t *testing.T) {
	ctx := context.Background()
	st, token := startKeylessStack(t)
	dir := t.TempDir()
	key, pub := keyPair(t, dir)
	img := testutil.PushRandomImage(t, st.RegistryHost, "demo/download")
	ref := img.String()

	mustFail(t, "no signatures attached to "+ref, "download", "signature", ref)

	// A keyed legacy signature over a payload whose optional map holds numbers.
	payload := []byte(`{"critical":{"identity":{"docker-reference":"` + img.Context().Name() + `"},"image":{"docker-manifest-digest":"` +
		img.DigestStr() + `"},"type":"cosign container image signature"},"optional":{"ratio":0.50,"team":"blue","timestamp":1796227528}}`)
	sig := signPayloadWithKey(t, dir, key, payload)
	if err := oci.AttachLegacy(ctx, img, oci.KindSignature, payload, oci.MediaTypeSimpleSigning, map[string]string{oci.AnnotationSignature: sig}); err != nil {
		t.Fatal(err)
	}
	// A keyless one: certificate, chain and RFC 3161 timestamp annotations.
	mustRun(t, "sign", "-y", "--identity-token", token, "--tlog-upload=false", "--new-bundle-format=false", ref)
	layers := readSigTag(t, img)
	if len(layers) != 2 || layers[1].annotations[oci.AnnotationChain] == "" || layers[1].annotations[oci.AnnotationRFC3161Timestamp] == "" {
		t.Fatalf("the keyless legacy layer lacks its chain or timestamp: %+v", layers)
	}
	// The keyless one again, with a Rekor bundle annotation as cosign v2 writes it.
	withRekor := map[string]string{}
	for k, v := range layers[1].annotations {
		withRekor[k] = v
	}
	body := base64.StdEncoding.EncodeToString([]byte(`{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}`))
	withRekor[oci.AnnotationRekorBundle] = `{"SignedEntryTimestamp":"` + base64.StdEncoding.EncodeToString([]byte("signed-entry-timestamp")) +
		`","Payload":{"body":"` + body + `","integratedTime":1796227528,"logIndex":9007199254740993,"logID":"` + hex.EncodeToString(make([]byte, 32)) + `"}}`
	if err := oci.AttachLegacy(ctx, img, oci.KindSignature, layers[1].payload, oci.MediaTypeSimpleSigning, withRekor); err != nil {
		t.Fatal(err)
	}

	layers = readSigTag(t, img)
	lines := downloadLines(t, ref)
	if len(lines) != 3 || len(layers) != 3 {
		t.Fatalf("download printed %d lines for %d layers:\n%s", len(lines), len(layers), strings.Join(lines, "\n"))
	}
	for i, l := range layers {
		checkSignedPayloadLine(t, lines[i], l)
	}

	// verify -o text shows the payload's numbers as they were written; -a matches them so.
	stdout, _ := mustRun(t, "verify", "--key", pub, "--insecure-ignore-tlog", "-a", "timestamp=1796227528", "-o", "text", ref)
	for _, want := range []string{"  ratio=0.50\n", "  team=blue\n", "  timestamp=1796227528\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("verify -o text printed %q, want a line %q", stdout, want)
		}
	}

	// With bundles attached, download prints every bundle (attestations too) and no legacy
	// signature, as cosign v3 does.
	mustRun(t, "sign", "--key", key, "--tlog-upload=false", ref)
	mustRun(t, "attest", "--key", key, "--tlog-upload=false", "--type", "spdxjson", "--predicate", attestTestdata("sbom.spdx.json"), ref)
	// Both print in the order the registry lists referrers, which this registry does not keep
	// from one answer to the next: compare them sorted.
	want := cosignBundleLines(t, img)
	lines = downloadLines(t, ref)
	slices.Sort(want)
	slices.Sort(lines)
	if len(want) != 2 || strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("download printed\n%s\ncosign prints\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// attachBundle attaches bundle JSON to img as a message-signature bundle, unchecked.
func attachBundle(t *testing.T, img name.Digest, bundleJSON []byte) v1.Descriptor {
	t.Helper()
	ctx := context.Background()
	_, desc, err := oci.Resolve(ctx, img.String())
	if err != nil {
		t.Fatal(err)
	}
	d, err := oci.AttachBundle(ctx, img, desc, bundleJSON, map[string]string{oci.AnnotationBundleContent: oci.BundleContentMessageSignature})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDownloadSignatureRefusals: a legacy layer or bundle that cannot be read as cosign reads
// it fails the command, naming the layer and what is wrong, and nothing is printed.
func TestDownloadSignatureRefusals(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	dir := t.TempDir()
	key, _ := keyPair(t, dir)
	signed := func(repo string) name.Digest {
		img := testutil.PushRandomImage(t, host, repo)
		mustRun(t, "sign", "--key", key, "--tlog-upload=false", "--new-bundle-format=false", img.String())
		return img
	}
	attach := func(img name.Digest, ann map[string]string) {
		t.Helper()
		if err := oci.AttachLegacy(ctx, img, oci.KindSignature, []byte(`{"critical":{}}`), oci.MediaTypeSimpleSigning, ann); err != nil {
			t.Fatal(err)
		}
	}
	sig := base64.StdEncoding.EncodeToString([]byte("sig"))
	tests := []struct {
		name string
		ann  map[string]string
		want string
	}{
		{"no signature annotation", map[string]string{"other": "x"}, "legacy signature has no dev.cosignproject.cosign/signature annotation"},
		{"certificate not PEM", map[string]string{oci.AnnotationSignature: sig, oci.AnnotationCertificate: "junk"}, "dev.sigstore.cosign/certificate: no PEM certificate found"},
		{"chain not PEM", map[string]string{oci.AnnotationSignature: sig, oci.AnnotationChain: "junk"}, "dev.sigstore.cosign/chain: no PEM certificate found"},
		{"rekor bundle not JSON", map[string]string{oci.AnnotationSignature: sig, oci.AnnotationRekorBundle: "{"}, "dev.sigstore.cosign/bundle: unexpected end of JSON input"},
		{"timestamp not JSON", map[string]string{oci.AnnotationSignature: sig, oci.AnnotationRFC3161Timestamp: "ts"}, "dev.sigstore.cosign/rfc3161timestamp: invalid character"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := signed("refuse/legacy" + string(rune('a'+i)))
			attach(img, tc.ann)
			stdout, _, err := runKeysCmd(t, "download", "signature", img.String())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "signature layer sha256:") {
				t.Fatalf("error %v, want one naming the layer and %q", err, tc.want)
			}
			if stdout != "" {
				t.Fatalf("printed %q before failing", stdout)
			}
		})
	}

	t.Run("bundle that does not parse", func(t *testing.T) {
		img := signed("refuse/bundle")
		d := attachBundle(t, img, []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
		stdout, _, err := runKeysCmd(t, "download", "signature", img.String())
		if err == nil || !strings.Contains(err.Error(), "bundle "+d.Digest.String()+" attached to "+img.String()) || !strings.Contains(err.Error(), "invalid bundle") {
			t.Fatalf("error %v, want one naming bundle %s", err, d.Digest)
		}
		if stdout != "" {
			t.Fatalf("printed %q before failing", stdout)
		}
	})

	t.Run("bundles older than v0.3 are passed over", func(t *testing.T) {
		img := signed("refuse/oldbundle")
		blob := filepath.Join(dir, "blob")
		if err := os.WriteFile(blob, []byte("blob"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "blob.sigstore.json")
		mustRun(t, "sign-blob", "--key", key, "--tlog-upload=false", "--bundle", out, blob)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		old := bytes.Replace(b, []byte("application/vnd.dev.sigstore.bundle.v0.3+json"), []byte("application/vnd.dev.sigstore.bundle+json;version=0.2"), 1)
		if bytes.Equal(old, b) {
			t.Fatalf("sign-blob bundle %s has no v0.3 media type", b)
		}
		attachBundle(t, img, old)
		lines := downloadLines(t, img.String())
		if len(lines) != 1 || !strings.HasPrefix(lines[0], `{"Base64Signature":`) {
			t.Fatalf("download printed %q, want the legacy signature alone", lines)
		}
		checkSignedPayloadLine(t, lines[0], readSigTag(t, img)[0])
	})
}
