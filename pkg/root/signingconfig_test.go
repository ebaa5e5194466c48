package root

import (
	"strings"
	"testing"
	"time"
)

func TestParseSigningConfig(t *testing.T) {
	start := time.Now().Add(-time.Hour)
	data, err := NewSigningConfig(SigningConfigOptions{
		CAURLs: []string{"https://ca.example"}, OIDCURLs: []string{"https://oidc.example"},
		RekorURLs: []string{"https://log.example"}, TSAURLs: []string{"https://tsa.example/api/v1/timestamp"},
		Start: start,
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSigningConfig(data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := SigningConfig{CAURL: "https://ca.example", OIDCURL: "https://oidc.example", RekorURL: "https://log.example", TSAURL: "https://tsa.example/api/v1/timestamp"}
	if *got != want {
		t.Fatalf("selected %+v, want %+v", *got, want)
	}
	// Before the services' validity starts, none is selected.
	early, err := ParseSigningConfig(data, start.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if *early != (SigningConfig{}) {
		t.Fatalf("services selected before they are valid: %+v", *early)
	}

	for name, tc := range map[string]struct{ data, want string }{
		"not JSON":           {`{"mediaType":`, "signing config"},
		"unknown media type": {`{"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.1+json"}`, "media type"},
		"too large":          {`{"x":"` + strings.Repeat("a", maxSigningConfig) + `"}`, "larger than"},
	} {
		if _, err := ParseSigningConfig([]byte(tc.data), time.Now()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, tc.want)
		}
	}
}

// A Rekor v1 log (majorApiVersion 1) is not selected: this client writes Rekor v2 entries only.
func TestParseSigningConfigSkipsRekorV1(t *testing.T) {
	data := `{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",
	  "rekorTlogUrls":[{"url":"https://rekor.example","majorApiVersion":1},{"url":"https://log2.example","majorApiVersion":2}]}`
	got, err := ParseSigningConfig([]byte(data), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got.RekorURL != "https://log2.example" {
		t.Fatalf("selected log %q, want the Rekor v2 one", got.RekorURL)
	}
	if got.RekorV1URL != "https://rekor.example" {
		t.Fatalf("v1 log %q, want the majorApiVersion 1 one", got.RekorV1URL)
	}
}

// NewSigningConfig lists a log serving both APIs twice: version 2 first, then version 1.
func TestNewSigningConfigListsRekorV1(t *testing.T) {
	data, err := NewSigningConfig(SigningConfigOptions{RekorURLs: []string{"https://log.example"}, RekorV1URLs: []string{"https://log.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"majorApiVersion": 1`) || strings.Index(string(data), `"majorApiVersion": 2`) > strings.Index(string(data), `"majorApiVersion": 1`) {
		t.Errorf("signing config %s: want the log with majorApiVersion 2, then 1", data)
	}
	got, err := ParseSigningConfig(data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got.RekorURL != "https://log.example" || got.RekorV1URL != "https://log.example" {
		t.Errorf("selected %+v: want the log for both API versions", *got)
	}
	if _, err := NewSigningConfig(SigningConfigOptions{RekorV1URLs: []string{"ftp://x"}}); err == nil || !strings.Contains(err.Error(), "Rekor v1 URL") {
		t.Errorf("bad v1 URL: err = %v, want it named", err)
	}
}
