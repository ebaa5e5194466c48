package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/internal/fsutil"
	"github.com/cosign-like/cosign-like/internal/limitio"
	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// maxBundleFile is the largest bundle file read from disk.
const maxBundleFile = 64 << 20

func init() {
	addCommand(newSignBlobCmd)
	addCommand(newSignBundleCmd)
	addCommand(newVerifyBlobCmd)
}

// newSignBundleCmd is sign-blob under the name the sigstore-conformance client protocol uses:
// `sign-bundle --identity-token T --bundle F [--signing-config F] [--trusted-root F] FILE`.
func newSignBundleCmd() *cobra.Command {
	cmd := newSignBlobCmd()
	cmd.Use = "sign-bundle [flags] FILE"
	cmd.Short = "Sign a file into a Sigstore bundle (the sigstore-conformance client protocol)"
	cmd.Example = ""
	cmd.Hidden = true
	return cmd
}

// signBlobOptions are the flags of `sign-blob`.
type signBlobOptions struct {
	signing    signingOptions
	bundlePath string
	outputSig  string
	yes        bool
}

func newSignBlobCmd() *cobra.Command {
	var o signBlobOptions
	cmd := &cobra.Command{
		Use:     "sign-blob [flags] FILE",
		Short:   "Sign a file and write the signature as a Sigstore bundle",
		Example: `  cosign-like sign-blob --key cosign.key --bundle app.tar.gz.sigstore.json app.tar.gz`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSignBlob(cmd, &o, args[0])
		},
	}
	fs := cmd.Flags()
	o.signing.addFlags(fs)
	fs.StringVar(&o.bundlePath, "bundle", "", "write the Sigstore bundle to this file (required)")
	markRequired(fs, "bundle", "the file to write the Sigstore bundle to")
	fs.StringVar(&o.outputSig, "output-signature", "", "also write the base64 signature to this file")
	fs.BoolVarP(&o.yes, "yes", "y", false, "skip confirmation prompts")
	return boundInTime(cmd)
}

func runSignBlob(cmd *cobra.Command, o *signBlobOptions, path string) error {
	ctx := cmd.Context()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	s, witness, err := o.signing.setup(cmd)
	if err != nil {
		return err
	}
	b, err := cosign.SignBlob(ctx, f, s, witness)
	if err != nil {
		return err
	}
	out, err := bundle.Marshal(b)
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(o.bundlePath, out, 0o644); err != nil {
		return fmt.Errorf("writing the bundle: %w", err)
	}
	sig := base64.StdEncoding.EncodeToString(b.GetMessageSignature().GetSignature())
	if o.outputSig != "" {
		if err := fsutil.WriteFileAtomic(o.outputSig, []byte(sig), 0o644); err != nil {
			return fmt.Errorf("writing the signature: %w", err)
		}
	}
	fmt.Fprintln(cmd.OutOrStdout(), sig)
	fmt.Fprintf(cmd.ErrOrStderr(), "Wrote bundle to %s\n", o.bundlePath)
	return nil
}

// verifyBlobOptions are the flags of `verify-blob`.
type verifyBlobOptions struct {
	verification verificationOptions
	bundlePath   string
}

func newVerifyBlobCmd() *cobra.Command {
	var o verifyBlobOptions
	cmd := &cobra.Command{
		Use:     "verify-blob [flags] FILE|sha256:HEX",
		Short:   "Verify a file (or a sha256 digest) against a Sigstore bundle",
		Example: `  cosign-like verify-blob --key cosign.pub --bundle app.tar.gz.sigstore.json app.tar.gz`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerifyBlob(cmd, &o, args[0])
		},
	}
	fs := cmd.Flags()
	o.verification.addFlags(fs)
	fs.StringVar(&o.bundlePath, "bundle", "", "the Sigstore bundle to verify (required)")
	markRequired(fs, "bundle", "the Sigstore bundle to verify")
	return boundInTime(cmd)
}

func runVerifyBlob(cmd *cobra.Command, o *verifyBlobOptions, path string) error {
	data, err := limitio.ReadFile(o.bundlePath, maxBundleFile)
	if err != nil {
		return err
	}
	b, err := bundle.Parse(data)
	if err != nil {
		return fmt.Errorf("bundle %s: %w", o.bundlePath, err)
	}
	v, policy, err := o.verification.build(cmd)
	if err != nil {
		return err
	}
	res, err := verifyBlobArtifact(path, b, v, policy)
	if err != nil {
		return err
	}
	if err := o.verification.checkLogs(cmd, res); err != nil {
		return err
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "Verified OK")
	return nil
}

// verifyBlobArtifact verifies b over the file at arg, or over the digest arg names when it is
// sha256:<hex> and no such file exists.
func verifyBlobArtifact(arg string, b *protobundle.Bundle, v *verify.Verifier, p verify.Policy) (*verify.Result, error) {
	f, err := os.Open(arg)
	if err != nil {
		if strings.HasPrefix(arg, "sha256:") && errors.Is(err, fs.ErrNotExist) {
			art, err := verify.ParseArtifactDigest(arg)
			if err != nil {
				return nil, err
			}
			return v.Verify(b, art, p)
		}
		return nil, err
	}
	defer f.Close()
	return cosign.VerifyBlob(f, b, v, p)
}
