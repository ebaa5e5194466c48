package verify_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// A blob signed with a key, carried in a bundle, checked in key mode. Without a transparency
// log entry the policy must say so explicitly.
func ExampleVerifier_Verify() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	artifact := []byte("release.tar.gz contents")
	digest := sha256.Sum256(artifact)
	sig, _ := ecdsa.SignASN1(rand.Reader, key, digest[:])
	vm, _ := bundle.KeyMaterial(key.Public())
	data, _ := bundle.Marshal(bundle.NewMessageSignatureBundle(vm, crypto.SHA256, digest[:], sig))

	b, err := bundle.Parse(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := verify.New(nil)
	_, err = v.Verify(b, verify.ArtifactBytes(artifact), verify.Policy{Key: key.Public(), UnsafeIgnoreTlog: true})
	fmt.Println("verified:", err == nil)

	_, err = v.Verify(b, verify.ArtifactBytes([]byte("something else")), verify.Policy{Key: key.Public(), UnsafeIgnoreTlog: true})
	fmt.Println(err != nil)
	// Output:
	// verified: true
	// true
}
