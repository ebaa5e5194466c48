package main

import (
	"github.com/spf13/cobra"
)

func init() { addCommand(newVerifyBundleCmd) }

// newVerifyBundleCmd is verify-blob under the sigstore-conformance client protocol:
// `verify-bundle --bundle F (--certificate-identity I --certificate-oidc-issuer U | --key PUB)
// [--trusted-root F] FILE_OR_DIGEST`. It never uses the network: the conformance cases name
// public logs, which a verification by the protocol must not dial.
func newVerifyBundleCmd() *cobra.Command {
	cmd := newVerifyBlobCmd()
	cmd.Use = "verify-bundle --bundle FILE (--certificate-identity I --certificate-oidc-issuer U | --key PUB) [--trusted-root FILE] FILE_OR_DIGEST"
	cmd.Short = "Verify a Sigstore bundle offline (the sigstore-conformance client protocol)"
	cmd.Long = `verify-bundle checks a Sigstore bundle against an artifact, given as a file path or as
sha256:<hex>, by certificate identity or by public key, fully offline, against the trusted root
given with --trusted-root. It exits 0 when the bundle verifies and non-zero, with the reason,
otherwise.`
	cmd.Example = ""
	cmd.Hidden = true
	if err := cmd.Flags().Set("offline", "true"); err != nil {
		panic(err) // the flag is defined by newVerifyBlobCmd
	}
	return cmd
}
