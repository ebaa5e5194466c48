package devstack

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestStartPushAndClose(t *testing.T) {
	ctx := context.Background()
	st, err := Start(ctx, Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	if !strings.HasPrefix(st.RegistryHost, "127.0.0.1:") {
		t.Fatalf("registry host %q is not on loopback", st.RegistryHost)
	}
	d, err := PushSample(ctx, st.RegistryHost+"/demo/app:v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(d)
	if err != nil {
		t.Fatalf("pushed image not found: %v", err)
	}
	if desc.Digest.String() != d.DigestStr() {
		t.Fatalf("registry has %s, pushed %s", desc.Digest, d.DigestStr())
	}
	idx, err := PushSample(ctx, st.RegistryHost+"/demo/multi:v1", []string{"linux/amd64", "linux/arm64"})
	if err != nil {
		t.Fatal(err)
	}
	ii, err := remote.Index(idx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ii.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 2 {
		t.Fatalf("index has %d manifests, want 2", len(m.Manifests))
	}
	if got := ExportLines(st.Env()); !strings.Contains(got, "export COSIGN_LIKE_REGISTRY='"+st.RegistryHost+"'") {
		t.Fatalf("exports %q lack the registry", got)
	}
	if got := ExportLines(st.Env()); !strings.Contains(got, "export COSIGN_LIKE_WITNESS_POLICY='"+st.WitnessPolicyPath+"'") {
		t.Fatalf("exports %q lack the witness policy", got)
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	_, err := Start(context.Background(), Config{Dir: t.TempDir(), RegistryAddr: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("err = %v, want refusal of a non-loopback address", err)
	}
}

func TestStartNeedsDir(t *testing.T) {
	if _, err := Start(context.Background(), Config{}); err == nil {
		t.Fatal("Start without a directory succeeded")
	}
}
