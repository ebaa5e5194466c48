package oci

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var manifestSeeds = []string{
	`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"annotations":{"dev.sigstore.bundle.content":"dsse-envelope"}}`,
	`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}]}`,
	`{"schemaVersion":2,"manifests":null,"layers":[],"unknown":{"x":[1,2,3]}}`,
	`{"schemaVersion":2,"layers":[{"digest":"sha256:zz","size":-1}]}`,
	`{"schemaVersion":1}`,
	`[]`,
	`{"layers":{}}`,
	``,
}

func TestParseManifest(t *testing.T) {
	tests := []struct {
		name, in string
		layers   int
		wantErr  string
	}{
		{name: "bundle manifest", in: manifestSeeds[0], layers: 1},
		{name: "index", in: manifestSeeds[1]},
		{name: "unknown fields skipped", in: manifestSeeds[2]},
		{name: "bad digest", in: manifestSeeds[3], wantErr: "invalid manifest"},
		{name: "schema 1", in: manifestSeeds[4], wantErr: "schemaVersion 1"},
		{name: "not an object", in: manifestSeeds[5], wantErr: "invalid manifest"},
		{name: "layers not an array", in: manifestSeeds[6], wantErr: `field "layers" is not an array`},
		{name: "empty", in: "", wantErr: "invalid manifest"},
		{name: "negative size", in: `{"schemaVersion":2,"layers":[{"mediaType":"a","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":-5}]}`, wantErr: "negative size"},
		{name: "too many layers", in: `{"schemaVersion":2,"layers":[` + strings.Repeat(`{"mediaType":"a","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":1},`, 3) + `{}]}`, wantErr: "more than 3 layers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseManifest(strings.NewReader(tt.in), 3, "test")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Layers) != tt.layers {
				t.Fatalf("%d layers, want %d", len(m.Layers), tt.layers)
			}
		})
	}
}

func TestReadManifestBodySizeLimit(t *testing.T) {
	body := manifestSeeds[0]
	if _, _, _, err := readManifestBody(strings.NewReader(body), int64(len(body)), 10, "x"); err != nil {
		t.Fatalf("a manifest of exactly the limit: %v", err)
	}
	_, _, _, err := readManifestBody(strings.NewReader(body+"   "), int64(len(body)), 10, "x")
	if !errors.Is(err, ErrLimitExceeded) || !strings.Contains(err.Error(), "larger than the limit") {
		t.Fatalf("a manifest over the limit: %v", err)
	}
}

// FuzzParseManifest feeds arbitrary bytes to the streaming manifest reader: it must not panic,
// must respect the entry limit, and whatever it accepts must be well-formed.
func FuzzParseManifest(f *testing.F) {
	for _, s := range manifestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, raw, dig, err := readManifestBody(bytes.NewReader(data), 1<<16, 4, "fuzz")
		if err != nil {
			return
		}
		if len(m.Layers) > 4 || len(m.Manifests) > 4 {
			t.Fatalf("limit of 4 entries not enforced: %d layers, %d manifests", len(m.Layers), len(m.Manifests))
		}
		if !bytes.Equal(raw, data) || dig != sha256Of(data) {
			t.Fatalf("raw bytes or digest differ from the input")
		}
		for _, d := range append(m.Layers, m.Manifests...) {
			if d.Size < 0 {
				t.Fatalf("negative size accepted")
			}
		}
	})
}

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		in, scheme string
		params     map[string]string
	}{
		{`Bearer realm="https://auth.example/token",service="reg.example",scope="repository:a/b:pull"`, "Bearer",
			map[string]string{"realm": "https://auth.example/token", "service": "reg.example", "scope": "repository:a/b:pull"}},
		{`Basic realm="registry"`, "Basic", map[string]string{"realm": "registry"}},
		{`Bearer realm=unquoted, service="a\"b"`, "Bearer", map[string]string{"realm": "unquoted", "service": `a"b`}},
		{`Basic`, "Basic", map[string]string{}},
		{`Bearer realm="unterminated`, "Bearer", map[string]string{"realm": "unterminated"}},
	}
	for _, tt := range tests {
		scheme, params := parseChallenge(tt.in)
		if scheme != tt.scheme || len(params) != len(tt.params) {
			t.Fatalf("parseChallenge(%q) = %q %v", tt.in, scheme, params)
		}
		for k, v := range tt.params {
			if params[k] != v {
				t.Fatalf("parseChallenge(%q)[%s] = %q, want %q", tt.in, k, params[k], v)
			}
		}
	}
}

func FuzzParseChallenge(f *testing.F) {
	f.Add(`Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull"`)
	f.Add(`Basic realm="x"`)
	f.Add(`Bearer realm="a\"b\\", x=y,,z`)
	f.Fuzz(func(t *testing.T, h string) {
		_, params := parseChallenge(h)
		if len(params) > len(h) {
			t.Fatalf("%d parameters from %d bytes", len(params), len(h))
		}
	})
}

func TestParseNextLink(t *testing.T) {
	tests := map[string]string{
		`</v2/r/referrers/sha256:x?n=10&last=y>; rel="next"`:         "/v2/r/referrers/sha256:x?n=10&last=y",
		`<https://a/prev>; rel="prev", <https://a/next>; rel="next"`: "https://a/next",
		`<https://a/x>; rel="prev"`:                                  "",
		`garbage`:                                                    "",
	}
	for in, want := range tests {
		if got := parseNextLink(in); got != want {
			t.Errorf("parseNextLink(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseNextLink(f *testing.F) {
	f.Add(`</v2/r/referrers/sha256:x?n=10>; rel="next"`)
	f.Add(`<a>; rel="prev", <b>; rel="next"`)
	f.Fuzz(func(t *testing.T, h string) {
		if got := parseNextLink(h); len(got) > len(h) {
			t.Fatalf("link longer than the header")
		}
	})
}
