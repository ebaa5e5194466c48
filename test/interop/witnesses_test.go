package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/witness"
)

// signedBlob is a blob that sign-blob signed with a new key pair through a log, as a user signs
// one, with the environment it ran in (no witness policy, no trusted root from the environment).
type signedBlob struct {
	env               []string
	pub, blob, bundle string
	bundleJSON        []byte
}

// signBlobThrough signs a new blob in dir through the log at logURL.
func signBlobThrough(t *testing.T, dir, logURL string) signedBlob {
	t.Helper()
	s := signedBlob{env: append(os.Environ(), "COSIGN_PASSWORD=interop", "COSIGN_LIKE_WITNESS_POLICY=", "COSIGN_LIKE_TRUSTED_ROOT=")}
	prefix := filepath.Join(dir, "release")
	run(t, s.env, ourBinary, "generate-key-pair", "--output-key-prefix", prefix)
	s.pub = prefix + ".pub"
	s.blob = writeFile(t, dir, "notes.txt", []byte("release notes\n"))
	s.bundle = filepath.Join(dir, "notes.sigstore.json")
	run(t, s.env, ourBinary, "sign-blob", "-y", "--key", prefix+".key", "--rekor-url", logURL, "--bundle", s.bundle, s.blob)
	var err error
	if s.bundleJSON, err = os.ReadFile(s.bundle); err != nil {
		t.Fatal(err)
	}
	return s
}

// absentWitnessLines are policy lines that add a witness which never cosigned (witness init
// only) to the witness named w, both required.
func absentWitnessLines(t *testing.T, dir, w string) string {
	t.Helper()
	absentDir := filepath.Join(dir, "absent")
	run(t, nil, ourBinary, "witness", "init", "--dir", absentDir, "--name", "absent.cosign-like.test/w2")
	vkey, err := os.ReadFile(filepath.Join(absentDir, witness.VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return "witness absent " + strings.TrimSpace(string(vkey)) + "\ngroup both all " + w + " absent\nquorum both\n"
}
