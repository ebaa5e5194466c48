package devstack

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// TestKeylessSignVerify signs an image with no key through the whole stack (token, CA with
// SCT, TSA, log) and verifies it by identity against the trusted root the stack wrote.
func TestKeylessSignVerify(t *testing.T) {
	ctx := context.Background()
	st, err := Start(ctx, Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)

	img, err := PushSample(ctx, st.RegistryHost+"/demo/keyless:v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	services, err := root.LoadSigningConfig(st.SigningConfigPath, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	trBytes, err := os.ReadFile(st.TrustedRootPath)
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := root.ParseTrustedRoot(trBytes)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := trusted.LogKeys(services.RekorURL)
	if err != nil {
		t.Fatal(err)
	}
	token, err := st.Issuer.Token(oidc.TokenRequest{Email: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	s, chain, err := cosign.Keyless(ctx, services.CAURL, token)
	if err != nil {
		t.Fatal(err)
	}
	w := &cosign.BundleOptions{Chain: chain, TSAURL: services.TSAURL, RekorURL: services.RekorURL, LogKeys: keys, StateDir: t.TempDir()}
	if _, err := cosign.SignImage(ctx, img.String(), cosign.SignOptions{Signer: s, BundleOptions: w}); err != nil {
		t.Fatal(err)
	}

	tr, err := root.ParseTrustedRoot(trBytes)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(tr)
	if err != nil {
		t.Fatal(err)
	}
	policy := verify.Policy{Identity: &verify.Identity{Subject: "alice@example.com", Issuer: st.OIDCURL}}
	got, err := cosign.VerifyImage(ctx, img.String(), cosign.VerifyOptions{Verifier: v, Policy: policy})
	if err != nil {
		t.Fatalf("keyless verify: %v", err)
	}
	r := got[0].Result
	if r.Identity == nil || r.Identity.Issuer != st.OIDCURL || len(r.TlogEntries) != 1 || len(r.Timestamps) != 1 {
		t.Fatalf("result %+v: want alice's identity, one log entry and one timestamp", r)
	}
	// The log's checkpoints carry the stack's witness's cosignature, as its policy requires.
	policyText, err := os.ReadFile(st.WitnessPolicyPath)
	if err != nil {
		t.Fatal(err)
	}
	witnesses, err := tlog.ParseWitnessPolicy(policyText)
	if err != nil {
		t.Fatal(err)
	}
	witnessed, err := verify.New(tr, verify.WithWitnessPolicy(witnesses))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cosign.VerifyImage(ctx, img.String(), cosign.VerifyOptions{Verifier: witnessed, Policy: policy}); err != nil {
		t.Fatalf("keyless verify under the stack's witness policy: %v", err)
	}
	// So do the CT log's, which the policy lists with its RFC 6962 tree head key.
	// Its certificate's entry is published within a checkpoint interval or two.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(st.CTURL + "/checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		cp, err := witnesses.VerifyCheckpoint(raw)
		if err != nil {
			t.Fatalf("the CT log's checkpoint under the stack's witness policy: %v\n%s", err, raw)
		}
		if cp.Size > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CT log published no checkpoint covering the certificate:\n%s", raw)
		}
	}

	for name, id := range map[string]*verify.Identity{
		"other subject":       {Subject: "bob@example.com", Issuer: st.OIDCURL},
		"other issuer":        {Subject: "alice@example.com", Issuer: "https://accounts.example.com"},
		"regexp not anchored": {SubjectRegexp: `lice@example\.com`, Issuer: st.OIDCURL},
	} {
		_, err := cosign.VerifyImage(ctx, img.String(), cosign.VerifyOptions{Verifier: v, Policy: verify.Policy{Identity: id}})
		if !errors.Is(err, cosign.ErrNoValidSignature) || !strings.Contains(err.Error(), "identity") && !strings.Contains(err.Error(), "issuer") {
			t.Errorf("%s: err = %v, want an identity mismatch", name, err)
		}
	}
	if _, err := cosign.VerifyImage(ctx, img.String(), cosign.VerifyOptions{Verifier: v, Policy: verify.Policy{Identity: &verify.Identity{SubjectRegexp: `.*@example\.com`, Issuer: st.OIDCURL}}}); err != nil {
		t.Errorf("regexp identity: %v", err)
	}
}
