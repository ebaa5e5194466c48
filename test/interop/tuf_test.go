package interop

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// sigstoreGoTUF is sigstore-go's TUF client over the stack's repository, seeded with the root
// the stack published and a cache of its own.
func sigstoreGoTUF(t *testing.T, st *devStack) *tuf.Options {
	t.Helper()
	rootJSON, err := os.ReadFile(st.env["COSIGN_LIKE_TUF_ROOT"])
	if err != nil {
		t.Fatal(err)
	}
	return tuf.DefaultOptions().WithRoot(rootJSON).WithRepositoryBaseURL(st.env["COSIGN_LIKE_TUF_MIRROR"]).WithCachePath(t.TempDir())
}

// TestSigstoreGoTUFClient: sigstore-go's TUF client reads our TUF repository, and the trusted
// root and signing config it fetches are the ones the stack wrote, byte for byte; its live
// trusted root works on them too.
func TestSigstoreGoTUFClient(t *testing.T) {
	st := startDevStack(t)
	opts := sigstoreGoTUF(t, st)
	c, err := tuf.New(opts)
	if err != nil {
		t.Fatalf("sigstore-go TUF client against our repository: %v", err)
	}
	for target, file := range map[string]string{"trusted_root.json": "COSIGN_LIKE_TRUSTED_ROOT", "signing_config.v0.2.json": "COSIGN_LIKE_SIGNING_CONFIG"} {
		got, err := c.GetTarget(target)
		if err != nil {
			t.Fatalf("sigstore-go TUF client: target %s: %v", target, err)
		}
		want, err := os.ReadFile(st.env[file])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("target %s differs from the stack's %s", target, st.env[file])
		}
	}
	tr, err := root.GetTrustedRoot(c)
	if err != nil {
		t.Fatalf("sigstore-go cannot read the trusted root our TUF repository serves: %v", err)
	}
	if len(tr.RekorLogs()) == 0 || len(tr.CTLogs()) == 0 || len(tr.FulcioCertificateAuthorities()) == 0 || len(tr.TimestampingAuthorities()) == 0 {
		t.Fatalf("trusted root from TUF: %d logs, %d CT logs, %d CAs, %d TSAs", len(tr.RekorLogs()), len(tr.CTLogs()), len(tr.FulcioCertificateAuthorities()), len(tr.TimestampingAuthorities()))
	}
	scJSON, err := c.GetTarget("signing_config.v0.2.json")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := root.NewSigningConfigFromJSON(scJSON)
	if err != nil {
		t.Fatalf("sigstore-go cannot read our signing config: %v", err)
	}
	if len(sc.FulcioCertificateAuthorityURLs()) == 0 || len(sc.RekorLogURLs()) == 0 || len(sc.TimestampAuthorityURLs()) == 0 || len(sc.OIDCProviderURLs()) == 0 {
		t.Fatalf("signing config from TUF lacks a service: %s", scJSON)
	}
	live, err := root.NewLiveTrustedRoot(sigstoreGoTUF(t, st))
	if err != nil {
		t.Fatalf("sigstore-go live trusted root over our repository: %v", err)
	}
	if len(live.RekorLogs()) != len(tr.RekorLogs()) {
		t.Fatalf("live trusted root: %d logs, want %d", len(live.RekorLogs()), len(tr.RekorLogs()))
	}
}

// TestSigstoreGoVerifiesOurFilesThroughTUF: the bundles the cosign-like binary writes (keyless
// blob, keyed blob, keyless attestation) verify in sigstore-go with the trusted root its own
// TUF client fetched from our repository, and it refuses another identity, another key and a
// changed file.
func TestSigstoreGoVerifiesOurFilesThroughTUF(t *testing.T) {
	st := startDevStack(t)
	trusted, err := root.FetchTrustedRootWithOptions(sigstoreGoTUF(t, st))
	if err != nil {
		t.Fatalf("sigstore-go fetching the trusted root from our TUF repository: %v", err)
	}
	us := newOurs(t, st)
	issuer := st.env["COSIGN_LIKE_OIDC_ISSUER"]
	token := st.token(t, "alice@example.com")
	blob := writeText(t, us.work, "release.tar", "release contents\n")
	keyless, err := sgverify.NewVerifier(trusted, sgverify.WithSignedCertificateTimestamps(1), sgverify.WithTransparencyLog(1), sgverify.WithSignedTimestamps(1))
	if err != nil {
		t.Fatal(err)
	}
	verifyFile := func(t *testing.T, v *sgverify.Verifier, bundlePath, artifact string, id sgverify.PolicyOption) error {
		t.Helper()
		data, err := os.ReadFile(bundlePath)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(artifact)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		_, err = v.Verify(toSigstoreGo(t, data), sgverify.NewPolicy(sgverify.WithArtifact(f), id))
		return err
	}

	t.Run("keyless blob", func(t *testing.T) {
		us.ok(t, "sign-blob", "-y", "--identity-token", token, "--bundle", "keyless.sigstore.json", blob)
		b := filepath.Join(us.work, "keyless.sigstore.json")
		if err := verifyFile(t, keyless, b, blob, identity(t, issuer, "alice@example.com")); err != nil {
			t.Fatalf("sigstore-go refuses our keyless bundle: %v", err)
		}
		if err := verifyFile(t, keyless, b, blob, identity(t, issuer, "bob@example.com")); err == nil || !strings.Contains(err.Error(), "bob@example.com") {
			t.Fatalf("another identity: %v", err)
		}
		changed := writeText(t, t.TempDir(), "changed.tar", "release contents, changed\n")
		if err := verifyFile(t, keyless, b, changed, identity(t, issuer, "alice@example.com")); err == nil {
			t.Fatal("sigstore-go accepted our bundle for another file")
		}
	})

	t.Run("keyless attestation", func(t *testing.T) {
		pred := writeText(t, t.TempDir(), "provenance.json", provenancePredicate)
		us.ok(t, "attest-blob", "--identity-token", token, "--type", "slsaprovenance1", "--predicate", pred, "--bundle", "att.sigstore.json", blob)
		if err := verifyFile(t, keyless, filepath.Join(us.work, "att.sigstore.json"), blob, identity(t, issuer, "alice@example.com")); err != nil {
			t.Fatalf("sigstore-go refuses our attestation bundle: %v", err)
		}
	})

	t.Run("keyed blob", func(t *testing.T) {
		us.ok(t, "generate-key-pair", "--output-key-prefix", "release")
		us.ok(t, "sign-blob", "-y", "--key", "release.key", "--bundle", "keyed.sigstore.json", blob)
		// sigstore-go's key mode: the log and timestamp material from the TUF root, the key
		// from our public key file.
		keyed := func(pubPath string) *sgverify.Verifier {
			pemBytes, err := os.ReadFile(pubPath)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
			if err != nil {
				t.Fatal(err)
			}
			sv, err := signature.LoadDefaultVerifier(pub)
			if err != nil {
				t.Fatal(err)
			}
			material := root.TrustedMaterialCollection{trusted, root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
				return root.NewExpiringKey(sv, time.Time{}, time.Time{}), nil
			})}
			v, err := sgverify.NewVerifier(material, sgverify.WithTransparencyLog(1), sgverify.WithSignedTimestamps(1))
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		b := filepath.Join(us.work, "keyed.sigstore.json")
		if err := verifyFile(t, keyed(filepath.Join(us.work, "release.pub")), b, blob, sgverify.WithKey()); err != nil {
			t.Fatalf("sigstore-go refuses our keyed bundle: %v", err)
		}
		us.ok(t, "generate-key-pair", "--output-key-prefix", "other")
		if err := verifyFile(t, keyed(filepath.Join(us.work, "other.pub")), b, blob, sgverify.WithKey()); err == nil {
			t.Fatal("sigstore-go accepted our keyed bundle under another key")
		}
	})
}
