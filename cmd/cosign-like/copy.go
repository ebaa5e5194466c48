package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/pkg/oci"
)

func init() {
	addCommand(newCopyCmd)
	addCommand(newSaveCmd)
	addCommand(newLoadCmd)
}

func newCopyCmd() *cobra.Command {
	var reg registryOptions
	cmd := &cobra.Command{
		Use:   "copy [flags] SRC DST",
		Short: "Copy an image with every signature, attestation and SBOM attached to it, digests kept",
		Long: `Copy copies the image (or index) at SRC to DST with everything attached to it in both
layouts: bundles are attached again on the destination (through its referrers API, or the
referrers tag schema where it has none), cosign's legacy .sig/.att/.sbom tags are copied as
they are. Digests do not change, so signatures and attestations verify on the copy.`,
		Example: `  cosign-like copy registry.example.com/app:v1 mirror.example.com/app:v1`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := reg.ociOptions()
			if err != nil {
				return err
			}
			d, copied, err := oci.Copy(cmd.Context(), args[0], args[1], opts...)
			reportArtifacts(cmd, "Copied", copied)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), d.String())
			return nil
		},
	}
	reg.addFlags(cmd.Flags())
	return boundInTime(cmd)
}

func newSaveCmd() *cobra.Command {
	var (
		reg registryOptions
		dir string
	)
	cmd := &cobra.Command{
		Use:   "save --dir DIR IMAGE",
		Short: "Save an image with everything attached to it into an OCI layout directory (for air-gapped sites)",
		Long: `Save writes the image (or index) and every signature, attestation and SBOM attached to it,
in both layouts, into an OCI image layout at DIR. Carry DIR to an air-gapped site and check it
there with verify-attestation --local-image, or push it with load.`,
		Example: `  cosign-like save --dir ./app-v1 registry.example.com/app:v1`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := reg.ociOptions()
			if err != nil {
				return err
			}
			d, saved, err := oci.Save(cmd.Context(), args[0], dir, opts...)
			reportArtifacts(cmd, "Saved", saved)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), d.String())
			return nil
		},
	}
	reg.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&dir, "dir", "", "OCI layout directory to write (created if absent)")
	markRequired(cmd.Flags(), "dir", "the directory to write the OCI layout to")
	return boundInTime(cmd)
}

func newLoadCmd() *cobra.Command {
	var (
		reg registryOptions
		dir string
	)
	cmd := &cobra.Command{
		Use:     "load --dir DIR IMAGE",
		Short:   "Push an image saved with save, with everything attached to it, to a registry",
		Example: `  cosign-like load --dir ./app-v1 registry.internal/app:v1`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := reg.ociOptions()
			if err != nil {
				return err
			}
			d, loaded, err := oci.Load(cmd.Context(), dir, args[0], opts...)
			reportArtifacts(cmd, "Loaded", loaded)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), d.String())
			return nil
		},
	}
	reg.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&dir, "dir", "", "OCI layout directory written by save")
	markRequired(cmd.Flags(), "dir", "the OCI layout directory written by save")
	return boundInTime(cmd)
}

// reportArtifacts lists what a transfer moved, on standard error.
func reportArtifacts(cmd *cobra.Command, verb string, artifacts []string) {
	for _, a := range artifacts {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s %s\n", verb, a)
	}
}
