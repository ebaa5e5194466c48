package cosign_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// A release file signed with a key and checked against it: the bundle carries the signature
// and the public key, and no log entry, which the policy must accept explicitly.
func ExampleSignBlob() {
	ctx := context.Background()
	key, err := signer.GenerateEphemeral()
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := cosign.SignBlob(ctx, strings.NewReader("release.tar.gz contents"), key, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := verify.New(nil)
	policy := verify.Policy{Key: key.Public(), UnsafeIgnoreTlog: true}
	_, err = cosign.VerifyBlob(strings.NewReader("release.tar.gz contents"), b, v, policy)
	fmt.Println("verified:", err == nil)
	_, err = cosign.VerifyBlob(strings.NewReader("another file"), b, v, policy)
	fmt.Println("another file verified:", err == nil)
	// Output:
	// verified: true
	// another file verified: false
}

// An image in a registry signed with a key (a Sigstore bundle attached as an OCI referrer, as
// cosign v3 writes it) and verified from the registry.
func ExampleSignImage() {
	ctx := context.Background()
	reg := httptest.NewServer(registry.New())
	defer reg.Close()
	ref := strings.TrimPrefix(reg.URL, "http://") + "/app:v1"
	img, _ := random.Image(1024, 1)
	tag, _ := name.ParseReference(ref)
	if err := remote.Write(tag, img); err != nil {
		fmt.Println(err)
		return
	}

	key, _ := signer.GenerateEphemeral()
	signed, err := cosign.SignImage(ctx, ref, cosign.SignOptions{Signer: key})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("signed manifests:", len(signed))

	v, _ := verify.New(nil)
	found, err := cosign.VerifyImage(ctx, ref, cosign.VerifyOptions{
		Verifier: v,
		Policy:   verify.Policy{Key: key.Public(), UnsafeIgnoreTlog: true},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("verified signatures:", len(found), found[0].Layout)
	// Output:
	// signed manifests: 1
	// verified signatures: 1 bundle
}
