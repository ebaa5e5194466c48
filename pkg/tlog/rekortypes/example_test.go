package rekortypes_test

import (
	"fmt"
	"os"

	"github.com/cosign-like/cosign-like/pkg/tlog/rekortypes"
)

// A client builds the rekord entry of an artifact signed with ssh-keygen -Y sign -n file; the
// log canonicalizes it (verifying the signature) and stores Body.
func ExampleCanonicalize() {
	artifact, _ := os.ReadFile("testdata/artifact.txt")
	sig, _ := os.ReadFile("testdata/ssh_ed25519.sig")
	key, _ := os.ReadFile("testdata/ssh_ed25519.pub")
	proposed, err := rekortypes.ProposeRekord("ssh", artifact, sig, key)
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := rekortypes.Canonicalize(proposed, rekortypes.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Kind, e.APIVersion)
	fmt.Println(e.IndexKeys[1])

	_, err = rekortypes.Canonicalize(proposed[:len(proposed)-1], rekortypes.Limits{})
	fmt.Println(err != nil)
	// Output:
	// rekord 0.0.1
	// sha256:a41f5afedda3e826aa8d0c08f2f1ebdda16893a0370b1df2cebfc87d68e1ea91
	// true
}
