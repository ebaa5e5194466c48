package main

import (
	"fmt"
	"os"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
)

func init() { addCommand(newCTCmd) }

func newCTCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ct",
		Short: "Run the RFC 6962 certificate transparency log for the CA's certificates",
	}
	cmd.AddCommand(newCTInitCmd(), newCTServeCmd())
	return cmd
}

func newCTInitCmd() *cobra.Command {
	var dir, roots string
	var opts ctlog.InitOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the CT log's keys, storage and trusted-root part",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if roots != "" {
				data, err := os.ReadFile(roots)
				if err != nil {
					return fmt.Errorf("ct init: --roots: %w", err)
				}
				opts.RootsPEM = data
			}
			if err := ctlog.Init(cmd.Context(), dir, opts); err != nil {
				return fmt.Errorf("ct init: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "CT log created in %s (trusted-root part: %s)\n", dir, ctlog.TrustedRootFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "state directory to create (required)")
	cmd.Flags().StringVar(&opts.URL, "url", "", "the log's base URL, recorded in the trusted root and naming its checkpoints")
	cmd.Flags().StringVar(&roots, "roots", "", "PEM file of the roots the log accepts (default: any self-signed root)")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func newCTServeCmd() *cobra.Command {
	var o serverOptions
	var roots, storage string
	var wo witnessingOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve add-chain and add-pre-chain (RFC 6962) and the log's tiles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := o.logger(cmd)
			if err != nil {
				return err
			}
			// Tessera logs through klog: send those lines to the same JSON log.
			klog.SetLogger(logr.FromSlogHandler(logger.Handler()))
			w, err := wo.load()
			if err != nil {
				return fmt.Errorf("ct serve: %w", err)
			}
			opts := ctlog.Options{Logger: logger, Storage: storage, WitnessPolicy: w.Policy, WitnessTimeout: w.Timeout, WitnessFailOpen: w.FailOpen}
			if roots != "" {
				if opts.RootsPEM, err = os.ReadFile(roots); err != nil {
					return fmt.Errorf("ct serve: --roots: %w", err)
				}
			}
			l, err := ctlog.Open(cmd.Context(), o.dir, opts)
			if err != nil {
				return fmt.Errorf("ct serve: %w", err)
			}
			return runServers(cmd, httpserver.RunOptions{Logger: logger}, httpserver.Service{Name: "CT log", Addr: o.addr, Server: l})
		},
	}
	o.bind(cmd, "127.0.0.1:6962")
	cmd.Flags().StringVar(&storage, "storage", "", "storage: empty for POSIX files under --dir, or aws://?db=<DSN>&bucket=<bucket>[&endpoint=URL&region=R&path-style=true] (MariaDB + S3)")
	cmd.Flags().StringVar(&roots, "roots", "", "PEM file of the roots the log accepts (overrides the state directory's)")
	wo.addFlags(cmd.Flags())
	return cmd
}
