package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/witness"
)

func init() { addCommand(newWitnessCmd) }

func newWitnessCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "witness",
		Short: "Run a C2SP tlog-witness that cosigns the checkpoints of the logs it follows",
	}
	cmd.AddCommand(newWitnessInitCmd(), newWitnessServeCmd())
	return cmd
}

// witnessLogFlags name the logs a new witness follows: signed-note verifier keys, and the PEM
// public keys that log init writes, each with the URL of its log.
type witnessLogFlags struct {
	vkeys   []string
	pubKeys []string
	urls    []string
}

func (f *witnessLogFlags) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.vkeys, "log", nil, "a log to follow, as its checkpoint verifier key <origin>+<key ID>+<key> (repeatable)")
	cmd.Flags().StringArrayVar(&f.pubKeys, "log-key", nil, "a log to follow, as the PEM public key log init wrote (log.pub); pairs with --log-url (repeatable)")
	cmd.Flags().StringArrayVar(&f.urls, "log-url", nil, "the base URL of the log of the --log-key at the same place (repeatable)")
}

// logs are the logs the flags name.
func (f *witnessLogFlags) logs() ([]witness.LogConfig, error) {
	if len(f.pubKeys) != len(f.urls) {
		return nil, fmt.Errorf("give one --log-url for each --log-key (%d and %d)", len(f.urls), len(f.pubKeys))
	}
	var logs []witness.LogConfig
	for _, v := range f.vkeys {
		logs = append(logs, witness.LogConfig{VerifierKey: v})
	}
	for i, path := range f.pubKeys {
		der, err := readPublicKeyPEM(path)
		if err != nil {
			return nil, err
		}
		k, err := tlog.LogKeyFromPKIX(f.urls[i], der)
		if err != nil {
			return nil, err
		}
		vk, err := k.VerifierKey()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		logs = append(logs, witness.LogConfig{Origin: k.Origin, VerifierKey: vk.String()})
	}
	return logs, nil
}

func newWitnessInitCmd() *cobra.Command {
	var dir string
	var opts witness.InitOptions
	var lf witnessLogFlags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a witness: Ed25519 key, verifier key and the config listing the logs it follows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logs, err := lf.logs()
			if err != nil {
				return fmt.Errorf("witness init: %w", err)
			}
			opts.Logs = logs
			if err := witness.Init(cmd.Context(), dir, opts); err != nil {
				return fmt.Errorf("witness init: %w", err)
			}
			s, err := witness.LoadSigner(dir)
			if err != nil {
				return fmt.Errorf("witness init: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "witness created in %s, following %d log(s)\nname: %s\nverifier key: %s\n",
				dir, len(logs), s.Name(), s.Verifier().VerifierKey())
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "state directory to create (required)")
	cmd.Flags().StringVar(&opts.Name, "name", "", "the witness's key name, e.g. witness.example.com/w1 (required)")
	lf.addFlags(cmd)
	markRequired(cmd.Flags(), "dir", "")
	markRequired(cmd.Flags(), "name", "")
	return cmd
}

func newWitnessServeCmd() *cobra.Command {
	var o serverOptions
	var logFormat string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the witness: POST /add-checkpoint and GET /<origin ID>/checkpoint",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newServerLogger(cmd, logFormat, o.logLevel)
			if err != nil {
				return err
			}
			w, err := witness.Open(cmd.Context(), o.dir, witness.Options{Logger: logger})
			if err != nil {
				return fmt.Errorf("witness serve: %w", err)
			}
			return runServers(cmd, httpserver.RunOptions{Logger: logger}, httpserver.Service{Name: "witness", Addr: o.addr, Server: w})
		},
	}
	o.bind(cmd, "127.0.0.1:3005")
	cmd.Flags().StringVar(&logFormat, "log-format", httpserver.JSONFormat, "log format: text or json")
	return cmd
}
