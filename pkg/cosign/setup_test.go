package cosign

import (
	"errors"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/root"
)

// TestRekorLog: the log a setup writes to and its API version, chosen as cosign chooses.
func TestRekorLog(t *testing.T) {
	both := &root.SigningConfig{RekorURL: "https://v2.example", RekorV1URL: "https://v1.example"}
	v1only := &root.SigningConfig{RekorV1URL: "https://v1.example"}
	for _, c := range []struct {
		name    string
		setup   SigningSetup
		url     string
		version uint32
	}{
		{"signing config with both: v2", SigningSetup{SigningConfig: both}, "https://v2.example", 2},
		{"signing config with v1 only", SigningSetup{SigningConfig: v1only}, "https://v1.example", 1},
		{"--rekor-url the config lists as v1", SigningSetup{SigningConfig: both, RekorURL: "https://v1.example"}, "https://v1.example", 1},
		{"--rekor-url the config lists as v2", SigningSetup{SigningConfig: both, RekorURL: "https://v2.example"}, "https://v2.example", 2},
		{"--rekor-url unknown to the config", SigningSetup{SigningConfig: both, RekorURL: "https://other.example"}, "https://other.example", 2},
		{"--rekor-url with --rekor-api-version 1", SigningSetup{RekorURL: "https://other.example", RekorAPIVersion: 1}, "https://other.example", 1},
		{"nothing", SigningSetup{}, "", 0},
	} {
		url, version := c.setup.RekorLog()
		if url != c.url || version != c.version {
			t.Errorf("%s: %s v%d, want %s v%d", c.name, url, version, c.url, c.version)
		}
	}

	// Keyless signing needs a signing time: a timestamp authority, or a Rekor v1 log's SET.
	s := SigningSetup{SigningConfig: v1only, Upload: true}
	opts, err := s.BundleOptions()
	if err != nil {
		t.Fatal(err)
	}
	if !opts.RekorV1 || opts.RekorURL != "https://v1.example" || !opts.HasSigningTime() {
		t.Fatalf("bundle options %+v: want the v1 log, which gives a signing time", opts)
	}
	s = SigningSetup{SigningConfig: &root.SigningConfig{RekorURL: "https://v2.example"}, Upload: true}
	if _, _, err := s.KeylessSigner(t.Context(), "token"); !errors.Is(err, ErrNoTimestampAuthority) {
		t.Fatalf("keyless with a Rekor v2 log and no TSA: %v, want ErrNoTimestampAuthority", err)
	}
}
