package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/attest"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// TestFlagHints checks that each library error a flag acts on is printed naming that flag, as
// the command line has always worded it, and that errors.Is still sees the library's error.
func TestFlagHints(t *testing.T) {
	ctx := context.Background()
	noEnv := func(string) string { return "" }
	libErr := func(_ any, err error) error { return err }
	_, _, keylessErr := cosign.Keyless(ctx, "", "token")
	_, _, kmsErr := pki.NewServerKey(ctx, t.TempDir(), "awskms:///alias/ca", pki.KeyFiles{Key: "k.pem", KMS: "k.txt"})
	tests := []struct {
		name string
		err  error
		is   error
		want string
	}{
		{"no identity token", libErr(oidc.GetToken(ctx, oidc.Options{Getenv: noEnv, DisableInteractive: true})), oidc.ErrNoToken,
			"no identity token: give --identity-token, set SIGSTORE_ID_TOKEN, or run in GitHub Actions with id-token: write"},
		{"malformed --identity-token", libErr(oidc.GetToken(ctx, oidc.Options{IdentityToken: "not-a-token", Getenv: noEnv, DisableInteractive: true})), nil,
			"--identity-token: neither a JWT nor a readable file"},
		{"malformed SIGSTORE_ID_TOKEN keeps its words", libErr(oidc.GetToken(ctx, oidc.Options{Getenv: func(k string) string {
			if k == "SIGSTORE_ID_TOKEN" {
				return "garbage"
			}
			return ""
		}, DisableInteractive: true})), nil,
			"SIGSTORE_ID_TOKEN: neither a JWT nor a readable file"},
		{"registry credentials", &oci.NoCredentialsError{Registry: "registry.example"}, oci.ErrNoCredentials,
			"registry registry.example requires credentials and none are configured (docker login, or --registry-username/--registry-password)"},
		{"server key not on a token", kmsErr, pki.ErrNotPKCS11,
			`--kms "awskms:///alias/ca": a pkcs11: URI is required`},
		{"no CA", keylessErr, cosign.ErrNoCA,
			"keyless signing needs a CA: pass --fulcio-url or a signing config that lists one"},
		{"no timestamp authority", cosign.ErrNoTimestampAuthority, cosign.ErrNoTimestampAuthority,
			"keyless signing needs a timestamp authority: pass --timestamp-server-url or a signing config that lists one"},
		{"no transparency log", cosign.ErrNoTransparencyLog, cosign.ErrNoTransparencyLog,
			"no transparency log configured: pass --rekor-url or --signing-config, or --tlog-upload=false to sign without a log entry"},
		{"legacy layout with a log", cosign.ErrLegacyNoLog, cosign.ErrLegacyNoLog,
			"the legacy layout (--new-bundle-format=false) cannot carry a Rekor v2 log entry: sign with the new bundle format, or with --tlog-upload=false"},
		{"predicate over the limit", libErr(attest.ReadBounded(strings.NewReader("123456"), 5, "predicate p.json")), attest.ErrTooLarge,
			"attestation too large: predicate p.json is larger than the limit of 5 bytes (raise it with --max-attestation-size)"},
		{"attestation over the limit", &attest.SizeError{Size: 2000, Limit: 1000}, attest.ErrTooLarge,
			"attestation too large: 2000 bytes, the limit is 1000 (--max-attestation-size)"},
		{"SPDX tag-value", libErr(attest.BuildPredicate(attest.PredicateSPDX, []byte("SPDXVersion: SPDX-2.3\n"), time.Now())), attest.ErrInvalidPredicate,
			"invalid predicate: an SPDX tag-value document cannot be the predicate of an in-toto v1 statement, which must be a JSON object: give the SPDX JSON form (--type spdxjson)"},
		{"no log entry", &verify.MissingTlogEntryError{Required: 1}, verify.ErrTlog,
			"verification failed: transparency log: the bundle has no transparency log entry (1 required; --insecure-ignore-tlog skips this check)"},
		{"no SCT", verify.ErrNoSCT, verify.ErrSCT,
			"verification failed: certificate transparency: the certificate carries no SCT and the trusted root lists CT logs (--insecure-ignore-sct skips this check)"},
		{"PIN twice", signer.ErrPINConflict, signer.ErrPINConflict,
			"PKCS#11 PIN given twice with different values (pin-value in the URI and --pin)"},
		{"no PIN", &signer.PINRequiredError{Token: "signing"}, signer.ErrPINRequired,
			`token "signing" needs a PIN: give pin-value in the URI, --pin or COSIGN_PKCS11_PIN`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("the library returned no error")
			}
			wrapped := fmt.Errorf("context: %w", tc.err)
			got := flagHint(wrapped)
			if got.Error() != "context: "+tc.want {
				t.Fatalf("flagHint(%q)\n = %q\nwant %q", wrapped, got, "context: "+tc.want)
			}
			if tc.is != nil && !errors.Is(got, tc.is) {
				t.Fatalf("errors.Is(%v, %v) is false", got, tc.is)
			}
			if !errors.Is(got, tc.err) {
				t.Fatalf("the hinted error no longer wraps %v", tc.err)
			}
		})
	}
	if flagHint(nil) != nil {
		t.Fatal("flagHint(nil) is not nil")
	}
	plain := errors.New("no flag acts on this")
	if flagHint(plain) != plain {
		t.Fatal("an error no hint applies to was changed")
	}
}

// TestFlagHintsReachTheCommandLine runs a command whose library error names no flag and checks
// that the command line names it.
func TestFlagHintsReachTheCommandLine(t *testing.T) {
	_, err := runCmd(t, "ca", "cert", "--fulcio-url", "http://127.0.0.1:1", "--identity-token", "not-a-token")
	if err == nil || err.Error() != "ca cert: --identity-token: neither a JWT nor a readable file" {
		t.Fatalf("ca cert with a malformed token: %v", err)
	}
}
