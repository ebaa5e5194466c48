package main

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/pkg/cosign"
)

func init() { addCommand(newSignCmd) }

// signOptions are the flags of `sign`.
type signOptions struct {
	registry        registryOptions
	signing         signingOptions
	annotations     annotationOptions
	recursive       bool
	newBundleFormat bool
	yes             bool
}

func newSignCmd() *cobra.Command {
	var o signOptions
	cmd := &cobra.Command{
		Use:   "sign [flags] IMAGE",
		Short: "Sign a container image and attach the signature to it in its registry",
		Example: `  cosign-like sign --key cosign.key registry.example.com/app@sha256:...
  cosign-like sign --key cosign.key -a build=42 --recursive registry.example.com/app:v1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSign(cmd, &o, args[0])
		},
	}
	fs := cmd.Flags()
	o.registry.addFlags(fs)
	o.signing.addFlags(fs)
	o.annotations.addFlags(fs, "annotation key=value to sign with the image (repeatable)")
	fs.BoolVar(&o.recursive, "recursive", false, "if IMAGE is an index, also sign each image it lists")
	fs.BoolVar(&o.newBundleFormat, "new-bundle-format", true, "attach a Sigstore bundle as an OCI referrer; false writes cosign's legacy .sig tag")
	fs.BoolVarP(&o.yes, "yes", "y", false, "skip confirmation prompts")
	return boundInTime(cmd)
}

func runSign(cmd *cobra.Command, o *signOptions, ref string) error {
	ctx := cmd.Context()
	if _, err := name.ParseReference(ref); err != nil {
		return fmt.Errorf("image reference %q: %w", ref, err)
	}
	ann, err := o.annotations.parse()
	if err != nil {
		return err
	}
	regOpts, err := o.registry.ociOptions()
	if err != nil {
		return err
	}
	s, witness, err := o.signing.setup(cmd)
	if err != nil {
		return err
	}
	if _, err := name.NewDigest(ref); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "WARNING: %q is a tag, which can be moved to another image: signing the digest it points to now. Sign by digest (IMAGE@sha256:...) to be sure what you sign.\n", ref)
	}
	signed, err := cosign.SignImage(ctx, ref, cosign.SignOptions{
		Signer:        s,
		BundleOptions: witness,
		Annotations:   ann,
		Recursive:     o.recursive,
		Legacy:        !o.newBundleFormat,
		Registry:      regOpts,
	})
	for _, sd := range signed {
		fmt.Fprintf(cmd.ErrOrStderr(), "Signed %s (%s layout)\n", sd.Digest, sd.Layout)
	}
	return err
}
