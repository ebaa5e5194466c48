package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadDirValid(t *testing.T) {
	docs, err := LoadDir(filepath.Join("testdata", "valid"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs.TrustRoots) != 1 || docs.TrustRoots[0].Metadata.Name != "corporate" ||
		string(docs.TrustRoots[0].Spec.Remote.Root) != `{"signed":{"_type":"root"}}` || docs.TrustRoots[0].Spec.Remote.Mirror != "https://tuf.example.com" {
		t.Errorf("trust roots %+v", docs.TrustRoots)
	}
	byName := map[string]*ClusterImagePolicy{}
	for _, p := range docs.Policies {
		byName[p.Metadata.Name] = p
	}
	if len(byName) != 6 {
		t.Fatalf("read %d policies, want 6: %v", len(byName), byName)
	}
	if p := byName["cue-policy"].Spec.Policy; p.Type != TypeCUE || !strings.Contains(p.Data, "predicateType") {
		t.Errorf("cue-policy read as %+v", p)
	}
	keyless := byName["ci-keyless"]
	if keyless.Spec.Mode != ModeWarn || keyless.Spec.Authorities[0].Name != "authority-0" ||
		len(keyless.Spec.Authorities[0].Keyless.Identities) != 2 || keyless.Spec.Authorities[0].SignatureFormat != FormatBundle {
		t.Errorf("ci-keyless read as %+v", keyless.Spec)
	}
	if got := byName["team-key"].Spec.Mode; got != ModeEnforce {
		t.Errorf("default mode %q, want enforce", got)
	}
	sbom := byName["sbom-required"]
	a := sbom.Spec.Authorities[0]
	if a.Name != "sbom-signer" || *a.Sources[0].TagPrefix != "release-" || a.RFC3161Timestamp.TrustRootRef != "corporate" ||
		a.Attestations[0].Policy.Type != TypeRego || !*sbom.Spec.Policy.IncludeSpec {
		t.Errorf("sbom-required read as %+v", sbom.Spec)
	}
	if !strings.HasSuffix(byName["no-scratch"].Source, "static-and-match.yaml#2") {
		t.Errorf("second document's source %q", byName["no-scratch"].Source)
	}
}

func TestParseRefuses(t *testing.T) {
	for file, want := range map[string][]string{
		"secretref":               {"spec.authorities[0].key.secretRef: not supported", "needs a cluster"},
		"unknown-field":           {"spec.authorities[0].keyless.identities[0].subjectRegex: unknown field", ":10:"},
		"policy-type":             {`spec.policy.type: "wasm" is not supported: want rego or cue`},
		"key-and-keyless":         {"spec.authorities[0]: expected exactly one, got more than one: key, keyless, static"},
		"bad-glob":                {"spec.images[0].glob", `glob "[a-z]+" is invalid`},
		"bad-mode":                {"spec.mode", `"audit" is not a mode`},
		"trustroot":               {"spec.remote.root: required"},
		"trustroot-keys":          {"spec.sigstoreKeys: expected at least one of certificateAuthorities, timestampAuthorities"},
		"trustroot-keys-bad":      {"spec.sigstoreKeys.certificateAuthorities[0].certChain: ", `spec.sigstoreKeys.tLogs[0].hashAlgorithm: "sha-512" is not supported`, "spec.sigstoreKeys.tLogs[0].publicKey: "},
		"trustroot-repository":    {"spec.repository.mirrorFS: required", `spec.repository.targets: "elsewhere" is not supported`},
		"configmapref":            {"spec.policy.configMapRef: not supported"},
		"fetch-config-file":       {"spec.policy.fetchConfigFile: not supported: the image's config file is not fetched"},
		"remote-policy":           {"spec.policy.remote: not supported: a policy is given inline in data"},
		"pull-secrets":            {"spec.authorities[0].source[0].signaturePullSecrets: not supported"},
		"static-attestations":     {"spec.authorities[0].attestations: a static authority takes no attestations"},
		"include-in-attestation":  {"spec.authorities[0].attestations[0].policy.includeSpec: allowed only in spec.policy"},
		"identity-missing-issuer": {"spec.authorities[0].keyless.identities[0]: expected exactly one, got neither: issuer, issuerRegExp"},
		"wrong-type":              {"spec.images: want a list"},
	} {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata", "invalid", file+".yaml")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(path, data)
			if err == nil {
				t.Fatal("parsed")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("err %v is not ErrInvalid", err)
			}
			for _, w := range append(want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to say %q", err, w)
				}
			}
		})
	}
}

func TestLoadDirRefusesDuplicateNames(t *testing.T) {
	dir := t.TempDir()
	doc := "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: same}\nspec:\n  images: [{glob: \"**\"}]\n"
	for _, f := range []string{"a.yaml", "b.yml"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), `"same" is also the name of the policy in`) {
		t.Fatalf("err = %v", err)
	}
}

func TestGlobMatch(t *testing.T) {
	const dig = "sha256:0000000000000000000000000000000000000000000000000000000000000001"
	for _, c := range []struct {
		glob, image string
		want        bool
	}{
		// Docker Hub names are written in full before matching.
		{"index.docker.io/library/nginx:latest", "nginx", true},
		{"index.docker.io/library/*", "nginx", true},
		{"index.docker.io/library/*", "nginx:1.27", true},
		{"*", "nginx", true},
		{"*", "alice/tool", false},
		{"*/*", "alice/tool", true},
		{"index.docker.io/alice/*", "docker.io/alice/tool:v1", true},
		// * stops at /, ** does not.
		{"ghcr.io/org/*", "ghcr.io/org/app:v1", true},
		{"ghcr.io/org/*", "ghcr.io/org/team/app:v1", false},
		{"ghcr.io/org/**", "ghcr.io/org/team/app:v1", true},
		{"ghcr.io/*/*", "ghcr.io/org", false},
		{"**", "ghcr.io/org", true},
		// A digest reference is matched with its digest, without its tag.
		{"ghcr.io/org/app@" + dig, "ghcr.io/org/app:v1@" + dig, true},
		{"ghcr.io/org/app*", "ghcr.io/org/app@" + dig, true},
		{"ghcr.io/org/app", "ghcr.io/org/app@" + dig, false},
		// The whole reference must match, and a dot is a dot.
		{"ghcr.io/org/app:*", "xghcr.io/org/app:v1", false},
		{"ghcr.io/**", "ghcrxio/org/app:v1", false},
		// The reference as given is tried too.
		{"alice/tool", "alice/tool", true},
	} {
		g, err := CompileGlob(c.glob)
		if err != nil {
			t.Fatalf("%s: %v", c.glob, err)
		}
		got, err := g.Match(c.image)
		if err != nil {
			t.Fatalf("%s against %s: %v", c.glob, c.image, err)
		}
		if got != c.want {
			t.Errorf("glob %s, image %s: match %t, want %t", c.glob, c.image, got, c.want)
		}
	}
	for _, bad := range []string{".+", "[a-z]*", "a b", ""} {
		if _, err := CompileGlob(bad); err == nil {
			t.Errorf("glob %q compiled", bad)
		}
	}
	g, _ := CompileGlob("**")
	if _, err := g.Match("Not&A&Reference"); err == nil {
		t.Error("an invalid image reference matched without error")
	}
}

func TestMatchesResource(t *testing.T) {
	docs, err := LoadDir(filepath.Join("testdata", "valid"))
	if err != nil {
		t.Fatal(err)
	}
	var sys *ClusterImagePolicy
	for _, p := range docs.Policies {
		if p.Metadata.Name == "system-pods" {
			sys = p
		}
	}
	for _, c := range []struct {
		r    Resource
		want bool
	}{
		{Resource{APIVersion: "v1", Kind: "Pod", Labels: map[string]string{"tier": "system"}}, true},
		{Resource{APIVersion: "v1", Kind: "Pod", Labels: map[string]string{"tier": "web"}}, false},
		{Resource{APIVersion: "apps/v1", Kind: "Deployment", Labels: map[string]string{"tier": "system"}}, false},
		{Resource{}, false},
	} {
		got, err := sys.MatchesResource(c.r)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%+v: %t, want %t", c.r, got, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		for _, tr := range docs.TrustRoots {
			if tr.Spec.Remote == nil || len(tr.Spec.Remote.Root) == 0 {
				t.Fatalf("accepted %+v", tr)
			}
		}
		for _, p := range docs.Policies {
			if p.Metadata.Name == "" || len(p.Spec.Images) == 0 {
				t.Fatalf("accepted %+v", p)
			}
		}
	})
}
