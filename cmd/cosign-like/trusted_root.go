package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/internal/limitio"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/root"
)

func init() {
	addCommand(newTrustedRootCmd)
	addCommand(newSigningConfigCmd)
}

func newTrustedRootCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trusted-root",
		Short: "Build Sigstore trusted roots",
	}
	var from []string
	var out string
	create := &cobra.Command{
		Use:   "create",
		Short: "Merge trusted-root parts (written by ca, ct, tsa and log init) into one trusted root",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(from) == 0 {
				return errors.New("trusted-root create: give at least one --from")
			}
			var parts [][]byte
			for _, f := range from {
				data, err := limitio.ReadFile(f, root.MaxTrustFileSize)
				if err != nil {
					return fmt.Errorf("trusted-root create: %w", err)
				}
				parts = append(parts, data)
			}
			merged, err := root.MergeTrustedRoots(parts...)
			if err != nil {
				return fmt.Errorf("trusted-root create: %w", err)
			}
			return writeTrustFile(cmd, out, merged)
		},
	}
	create.Flags().StringArrayVar(&from, "from", nil, "trusted-root part to merge (repeatable)")
	create.Flags().StringVar(&out, "out", "", "file to write (default: standard output)")
	cmd.AddCommand(create)
	return cmd
}

func newSigningConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "signing-config",
		Short: "Build Sigstore signing configs",
	}
	var o root.SigningConfigOptions
	var out string
	create := &cobra.Command{
		Use:   "create",
		Short: "Write a signing config (v0.2) naming the CA, OIDC, log and TSA URLs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := root.NewSigningConfig(o)
			if err != nil {
				return fmt.Errorf("signing-config create: %w", err)
			}
			return writeTrustFile(cmd, out, data)
		},
	}
	create.Flags().StringArrayVar(&o.CAURLs, "fulcio-url", nil, "CA base URL (repeatable)")
	create.Flags().StringArrayVar(&o.RekorURLs, "rekor-url", nil, "transparency log base URL (repeatable)")
	create.Flags().StringArrayVar(&o.RekorV1URLs, "rekor-v1-url", nil, "base URL of a log serving the Rekor v1 API (repeatable)")
	create.Flags().StringArrayVar(&o.TSAURLs, "timestamp-server-url", nil, "RFC 3161 timestamp URL, e.g. http://127.0.0.1:3004/api/v1/timestamp (repeatable)")
	create.Flags().StringArrayVar(&o.OIDCURLs, "oidc-url", nil, "OpenID provider URL (repeatable)")
	create.Flags().StringVar(&o.Operator, "operator", "cosign-like", "operator named for each service")
	create.Flags().StringVar(&out, "out", "", "file to write (default: standard output)")
	cmd.AddCommand(create)
	return cmd
}

// writeTrustFile writes data to path with mode 0644, or to standard output when path is empty.
func writeTrustFile(cmd *cobra.Command, path string, data []byte) error {
	if path == "" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	if err := pki.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", path)
	return nil
}
