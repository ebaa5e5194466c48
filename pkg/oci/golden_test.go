package oci_test

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func getRaw(t *testing.T, url, accept string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestWireFormats -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s differs:\ngot  %s\nwant %s", file, got, want)
	}
}

// TestWireFormats pins the bytes written: the bundle manifest and its referrers tag index
// entry (new layout), and the legacy .sig manifest and config, for a fixed subject, payload
// and clock.
func TestWireFormats(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	dig := v1.Hash{Algorithm: "sha256", Hex: "5d3f1b4b3d8f8b4c2d1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29181716"}
	subject, err := name.NewDigest(host + "/golden@" + dig.String())
	if err != nil {
		t.Fatal(err)
	}
	desc := v1.Descriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Size: 1234, Digest: dig}
	clock := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	bundleDesc, err := oci.AttachBundle(ctx, subject, desc, fakeBundle(7), sigAnnotations(),
		oci.WithClock(clock), oci.WithReferrersMode(oci.ReferrersLegacy), oci.WithConfirmDelay(1))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + host + "/v2/golden/manifests/"
	golden(t, "bundle_manifest.json", getRaw(t, base+bundleDesc.Digest.String(), oci.MediaTypeOCIManifest))
	golden(t, "referrers_tag_index.json", getRaw(t, base+oci.ReferrersTag(subject).TagStr(), oci.MediaTypeOCIIndex))

	payload := []byte(`{"critical":{"identity":{"docker-reference":"example.test/golden"},"image":{"docker-manifest-digest":"` + dig.String() + `"},"type":"cosign container image signature"},"optional":null}`)
	if err := oci.AttachLegacy(ctx, subject, oci.KindSignature, payload, oci.MediaTypeSimpleSigning,
		map[string]string{oci.AnnotationSignature: "MEUCIQ=="}, oci.WithConfirmDelay(1)); err != nil {
		t.Fatal(err)
	}
	sig := getRaw(t, base+oci.LegacyTag(subject, "sig").TagStr(), oci.MediaTypeOCIManifest)
	golden(t, "legacy_sig_manifest.json", sig)
	m, err := v1.ParseManifest(bytes.NewReader(sig))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "legacy_sig_config.json", getRaw(t, "http://"+host+"/v2/golden/blobs/"+m.Config.Digest.String(), "*/*"))
}
