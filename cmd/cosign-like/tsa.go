package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/tsa"
)

func init() { addCommand(newTSACmd) }

func newTSACmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tsa",
		Short: "Run an RFC 3161 timestamp authority",
	}
	cmd.AddCommand(newTSAInitCmd(), newTSAServeCmd())
	return cmd
}

func newTSAInitCmd() *cobra.Command {
	var dir string
	var opts tsa.InitOptions
	var tok pkcs11Flags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the TSA's root, signing key and certificate, and its trusted-root part",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.SignerOptions = tok.signerOptions()
			if err := tsa.Init(cmd.Context(), dir, opts); err != nil {
				return fmt.Errorf("tsa init: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "TSA created in %s (trusted-root part: %s)\n", dir, tsa.TrustedRootFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "state directory to create (required)")
	cmd.Flags().StringVar(&opts.URL, "url", "", "timestamp URL to record in the trusted root")
	cmd.Flags().StringVar(&opts.Organization, "organization", "cosign-like", "organization in the certificate subjects")
	cmd.Flags().StringVar(&opts.KMS, "kms", "", "create the signing key in a PKCS#11 token (pkcs11: URI) instead of a file")
	tok.addFlags(cmd, true)
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func newTSAServeCmd() *cobra.Command {
	var o serverOptions
	var tok pkcs11Flags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve RFC 3161 timestamps (POST /api/v1/timestamp, GET /api/v1/timestamp/certchain)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := o.logger(cmd)
			if err != nil {
				return err
			}
			a, err := tsa.Open(cmd.Context(), o.dir, tsa.Options{Logger: logger, SignerOptions: tok.signerOptions()})
			if err != nil {
				return fmt.Errorf("tsa serve: %w", err)
			}
			return runServers(cmd, httpserver.RunOptions{Logger: logger}, httpserver.Service{Name: "TSA", Addr: o.addr, Server: a})
		},
	}
	o.bind(cmd, "127.0.0.1:3004")
	tok.addFlags(cmd, false)
	return cmd
}
