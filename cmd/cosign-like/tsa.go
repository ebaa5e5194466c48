package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/pkg/ca/srv"
	"github.com/cosign-like/cosign-like/pkg/tsa"
)

func init() { addCommand(newTSACmd) }

// serverOptions are the flags every server command shares.
type serverOptions struct {
	dir      string
	addr     string
	logLevel string
}

func (o *serverOptions) bind(cmd *cobra.Command, defaultAddr string) {
	cmd.Flags().StringVar(&o.dir, "dir", "", "state directory written by init (required)")
	cmd.Flags().StringVar(&o.addr, "addr", defaultAddr, "address to listen on")
	cmd.Flags().StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	_ = cmd.MarkFlagRequired("dir")
}

func (o *serverOptions) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return srv.JSONLogger(os.Stderr, level), nil
}

// announce prints where a server listens, once its listener is open.
func announce(cmd *cobra.Command, logger *slog.Logger, what string) func(net.Addr) {
	return func(a net.Addr) {
		logger.Info("listening", "server", what, "addr", a.String())
		fmt.Fprintf(cmd.OutOrStdout(), "%s listening on http://%s\n", what, a)
	}
}

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
			logger, err := o.logger()
			if err != nil {
				return err
			}
			a, err := tsa.Open(cmd.Context(), o.dir, tsa.Options{Logger: logger, SignerOptions: tok.signerOptions()})
			if err != nil {
				return fmt.Errorf("tsa serve: %w", err)
			}
			return srv.ListenAndServe(cmd.Context(), o.addr, a.Handler(), logger, announce(cmd, logger, "TSA"))
		},
	}
	o.bind(cmd, "127.0.0.1:3004")
	tok.addFlags(cmd, false)
	return cmd
}
