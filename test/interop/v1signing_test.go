//go:build containers_image_openpgp

package interop

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestKeylessLegacyWithV1Log: cosign v3.1.3 signs an image keyless in the legacy layout through
// our CA and our log's Rekor v1 API (--use-signing-config=false, as cosign v2 signed); cosign,
// we and containers/image's sigstoreSigned "fulcio" policy (our CA, the email, our v1 log's key)
// accept it. containers/image accepts what our sign --new-bundle-format=false writes keyless with
// the v1 log too, and refuses another email; cosign and we accept the bundle our sign-blob writes
// with the v1 log.
func TestKeylessLegacyWithV1Log(t *testing.T) {
	st := startDevStack(t)
	server := v1Log(t, st)
	rekorKey := v1LogKey(t, st, server)
	cosign := newCosignPeer(t, st)
	us := newOurs(t, st)
	reg := st.env["COSIGN_LIKE_REGISTRY"]
	issuer := st.env["COSIGN_LIKE_OIDC_ISSUER"]
	ca := caURL(t, st)
	alice := st.token(t, "alice@example.com")
	aliceFile := writeText(t, cosign.work, "alice.token", alice)
	sample := func(repo string) string {
		return strings.TrimSpace(us.ok(t, "dev", "push-sample", reg+"/interop/"+repo+":v1").stdout)
	}
	theirs, mine := sample("v1-legacy-cosign"), sample("v1-legacy-ours")
	who := []string{"--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", issuer}
	// The stack's witness policy ($COSIGN_LIKE_WITNESS_POLICY) asks for checkpoints its witness
	// cosigned, which a legacy signature's SET cannot show and the v1 tree's checkpoints do not
	// have: our verifier is run without it (cosign and containers/image know no witnesses).
	ourWho := append([]string{"--witness-policy="}, who...)

	cosign.ok(t, "sign", "--use-signing-config=false", "--fulcio-url", ca.String(), "--rekor-url", server,
		"--new-bundle-format=false", "--identity-token", aliceFile, theirs)
	cosign.ok(t, append(append([]string{"verify", "--new-bundle-format=false", "--rekor-url", server}, who...), theirs)...)
	us.ok(t, append(append([]string{"verify"}, ourWho...), theirs)...)
	us.fails(t, "the witness policy requires an inclusion proof under a checkpoint cosigned by its quorum", append(append([]string{"verify"}, who...), theirs)...)

	// The log serves both APIs at one URL, which the signing config lists with both versions:
	// --rekor-api-version 1 picks the Rekor v1 API.
	v1 := []string{"--rekor-url", server, "--rekor-api-version", "1"}
	us.ok(t, append([]string{"sign", "-y", "--identity-token", alice, "--new-bundle-format=false"}, append(v1, mine)...)...)
	us.ok(t, append(append([]string{"verify"}, ourWho...), mine)...)
	cosign.ok(t, append(append([]string{"verify", "--new-bundle-format=false", "--rekor-url", server}, who...), mine)...)

	// The fulcio requirement's caPath holds the CA's chain, intermediate and root: cosign v3
	// writes no dev.sigstore.cosign/chain annotation (we write it), so containers/image finds
	// the intermediate there only.
	roots := filepath.Join(t.TempDir(), "ca.pem")
	writeCIFile(t, roots, string(caChain(t, ca)))
	policy := func(email string) map[string]any {
		return map[string]any{
			"type":               "sigstoreSigned",
			"fulcio":             map[string]any{"caPath": roots, "oidcIssuer": issuer, "subjectEmail": email},
			"rekorPublicKeyPath": rekorKey,
			"signedIdentity":     map[string]any{"type": "matchRepository"},
		}
	}
	sys := ciSystemContext(t)
	for _, image := range []string{theirs, mine} {
		if ok, err := ciAllowed(t, sys, ciPolicy(t, policy("alice@example.com")), image); !ok || err != nil {
			t.Fatalf("containers/image refuses %s, signed keyless with the v1 log: allowed=%v, %v", image, ok, err)
		}
		if ok, err := ciAllowed(t, sys, ciPolicy(t, policy("bob@example.com")), image); ok || err == nil || !strings.Contains(err.Error(), `Required email "bob@example.com" not found`) {
			t.Fatalf("containers/image, asked for bob@example.com on %s: allowed=%v, %v", image, ok, err)
		}
	}

	t.Run("legacy attestation with the v1 log", func(t *testing.T) {
		pred := writeText(t, t.TempDir(), "provenance.json", provenancePredicate)
		att := []string{"verify-attestation", "--type", "slsaprovenance1"}
		cosign.ok(t, "attest", "--use-signing-config=false", "--fulcio-url", ca.String(), "--rekor-url", server,
			"--new-bundle-format=false", "--identity-token", aliceFile, "--type", "slsaprovenance1", "--predicate", pred, theirs)
		us.ok(t, append(append(att, ourWho...), theirs)...)
		us.ok(t, append(append([]string{"attest", "-y", "--identity-token", alice, "--new-bundle-format=false",
			"--type", "slsaprovenance1", "--predicate", pred}, v1...), mine)...)
		us.ok(t, append(append(att, ourWho...), mine)...)
		out := cosign.ok(t, append(append(append(att, "--new-bundle-format=false", "--rekor-url", server), who...), mine)...)
		if !strings.Contains(out.stdout, "payload") {
			t.Fatalf("cosign verify-attestation printed no attestation: %v", out)
		}
	})

	t.Run("bundle from the v1 log", func(t *testing.T) {
		blob := writeText(t, us.work, "v1-blob.txt", "signed keyless, logged through the Rekor v1 API\n")
		us.ok(t, append(append([]string{"sign-blob", "-y", "--identity-token", alice}, v1...), "--bundle", "v1.sigstore.json", blob)...)
		bundlePath := filepath.Join(us.work, "v1.sigstore.json")
		us.ok(t, append(append([]string{"verify-blob"}, ourWho...), "--bundle", bundlePath, blob)...)
		cosign.ok(t, append(append([]string{"verify-blob"}, who...), "--bundle", bundlePath, blob)...)
		tampered := writeText(t, us.work, "tampered.txt", "something else\n")
		us.fails(t, "artifact does not match", append(append([]string{"verify-blob"}, ourWho...), "--bundle", bundlePath, tampered)...)
	})
}
